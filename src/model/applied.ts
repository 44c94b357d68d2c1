import type { NetworkSpec, ServiceSpec, VolumeSpec } from './desired.js';

/**
 * The last-applied record: what berth applied, kept in the state dir so that
 * `drift`, `status` and the plan's reasons work without the repository.
 * Environment values are stored as salted hashes only: the record tells which
 * keys changed, never what they were.
 */
export type RedactedServiceSpec = Omit<ServiceSpec, 'environment'> & {
  /** key → `sha256:<hex>` of salt + value. */
  environment: Record<string, string>;
};

export interface AppliedStack {
  name: string;
  networks: NetworkSpec[];
  volumes: VolumeSpec[];
  services: RedactedServiceSpec[];
}

export interface AppliedRecord {
  /** Git revision, or null for a local directory that is not a git checkout. */
  revision: string | null;
  /** ISO timestamp. */
  appliedAt: string;
  /** Where the desired state came from (directory or URL), for status output. */
  source: string;
  /** Salt for the environment hashes; random per state dir. */
  salt: string;
  stacks: AppliedStack[];
}
