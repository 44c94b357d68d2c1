import type { NetworkSpec, ServiceSpec, VolumeSpec } from '../model/desired.js';
import { LABEL } from '../labels.js';
import { containerNumber } from '../model/replicas.js';
import { snapshotKeys } from '../files/snapshot.js';

/** The ownership labels every object berth creates carries (PRODUCT.md §3). */
function ownership(stack: string, revision: string | null): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.stack]: stack,
    ...(revision ? { [LABEL.revision]: revision } : {}),
    [LABEL.composeProject]: stack,
  };
}

/** Labels of a berth container: the service's own, then berth's and Compose's (which win). */
export function containerLabels(spec: ServiceSpec, revision: string | null): Record<string, string> {
  const files = snapshotKeys(spec);
  return {
    ...spec.labels,
    ...(files.length > 0 ? { [LABEL.files]: files.join(',') } : {}),
    ...ownership(spec.stack, revision),
    [LABEL.service]: spec.name,
    [LABEL.configHash]: spec.configHash,
    [LABEL.composeService]: spec.name,
    [LABEL.composeContainerNumber]: String(containerNumber(spec)),
    [LABEL.composeOneoff]: 'False',
  };
}

export function networkLabels(spec: NetworkSpec, revision: string | null): Record<string, string> {
  return { ...spec.labels, ...ownership(spec.stack, revision), [LABEL.composeNetwork]: spec.key };
}

export function volumeLabels(spec: VolumeSpec, revision: string | null): Record<string, string> {
  return { ...spec.labels, ...ownership(spec.stack, revision), [LABEL.composeVolume]: spec.key };
}
