import type { NetworkSpec, ServiceSpec, VolumeSpec } from '../model/desired.js';
import { LABEL } from '../labels.js';

/** Labels of a berth container: the service's own, then berth's and Compose's (which win). */
export function containerLabels(spec: ServiceSpec, revision: string | null): Record<string, string> {
  return {
    ...spec.labels,
    [LABEL.managed]: 'true',
    [LABEL.stack]: spec.stack,
    [LABEL.service]: spec.name,
    [LABEL.configHash]: spec.configHash,
    ...(revision ? { [LABEL.revision]: revision } : {}),
    [LABEL.composeProject]: spec.stack,
    [LABEL.composeService]: spec.name,
    [LABEL.composeContainerNumber]: '1',
    [LABEL.composeOneoff]: 'False',
  };
}

export function networkLabels(spec: NetworkSpec, revision: string | null): Record<string, string> {
  return {
    ...spec.labels,
    [LABEL.managed]: 'true',
    [LABEL.stack]: spec.stack,
    ...(revision ? { [LABEL.revision]: revision } : {}),
    [LABEL.composeProject]: spec.stack,
    [LABEL.composeNetwork]: spec.key,
  };
}

export function volumeLabels(spec: VolumeSpec, revision: string | null): Record<string, string> {
  return {
    ...spec.labels,
    [LABEL.managed]: 'true',
    [LABEL.stack]: spec.stack,
    ...(revision ? { [LABEL.revision]: revision } : {}),
    [LABEL.composeProject]: spec.stack,
    [LABEL.composeVolume]: spec.key,
  };
}
