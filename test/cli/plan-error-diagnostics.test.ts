import { describe, expect, it } from 'vitest';
import { planErrorDiagnostics } from '../../src/cli/plan-error-diagnostics.js';
import { renderDiagnostic } from '../../src/cli/render-diagnostics.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { tmpRepo } from '../support/tmp-repo.js';

/** The plan's errors (found against the host) point at the declaration they concern. */
describe('planErrorDiagnostics', () => {
  const root = tmpRepo({
    'stacks/shop/compose.yaml':
      'services:\n  web:\n    image: berth-test/web:v1\n  api:\n    image: berth-test/web:v2\n    container_name: shop-api\n    volumes: [data:/data]\n    networks: [edge]\nnetworks:\n  edge:\n    external: true\n    name: edge\nvolumes:\n  data:\n    name: shop-data\n',
  });
  const loaded = loadDesiredState(root, { env: {}, validators: createValidators() });
  const at = (code: string, object: string, stack = 'shop') =>
    renderDiagnostic(planErrorDiagnostics(loaded.state!, loaded.sources, [{ code, stack, object, message: 'msg' }])[0]!);

  it('a container name taken on the host: the service, or its container_name when set', () => {
    expect(at('container-unmanaged', 'web')).toBe('stacks/shop/compose.yaml:2:3: error: services.web: msg [container-unmanaged]');
    expect(at('container-unmanaged', 'api')).toBe('stacks/shop/compose.yaml:6:5: error: services.api.container_name: msg [container-unmanaged]');
  });

  it('an image the host lacks: the image value', () => {
    expect(at('image-missing', 'web')).toBe('stacks/shop/compose.yaml:3:12: error: services.web.image: msg [image-missing]');
  });

  it('volumes and networks by their Docker name: the declaration', () => {
    expect(at('volume-unmanaged', 'shop-data')).toBe('stacks/shop/compose.yaml:14:3: error: volumes.data: msg [volume-unmanaged]');
    expect(at('network-external-missing', 'edge')).toBe('stacks/shop/compose.yaml:10:3: error: networks.edge: msg [network-external-missing]');
  });

  it('something it cannot place still names the file', () => {
    expect(at('duplicate-op', 'web/x')).toBe('stacks/shop/compose.yaml:1:1: error: msg [duplicate-op]');
    expect(at('whatever', 'x', 'gone')).toBe('stacks/gone: error: msg [whatever]');
  });
});
