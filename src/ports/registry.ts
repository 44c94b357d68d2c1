import type { ImageRef } from '../registry/reference.js';

/**
 * Credentials for one registry, in the shape the Engine API takes as
 * `X-Registry-Auth` (base64 JSON). Never printed, logged or stored by berth:
 * it goes from the docker config (or a credential helper) to the engine and
 * to the registry's token endpoint, nowhere else.
 */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** An OAuth refresh token (`identitytoken` in config.json; `<token>` user from a helper). */
  identitytoken?: string;
  serveraddress: string;
}

/** Where berth finds registry credentials: the docker config the Docker CLI would read. */
export interface CredentialsPort {
  /** Credentials for a normalized registry host (`docker.io`, `ghcr.io`, `127.0.0.1:5000`); null = anonymous. */
  forRegistry(registry: string): Promise<RegistryAuth | null>;
}

/** A registry's HTTP API (distribution v2), read-only. */
export interface RegistryPort {
  /**
   * The digest a tag names now: one manifest HEAD (token flow included), no
   * download. Rejects with a message that names the image and the registry's
   * answer (never the credentials).
   */
  resolveDigest(ref: ImageRef): Promise<string>;
  /** Every tag of the repository `ref` names (its tag is ignored), all pages. Rejects like resolveDigest. */
  listTags?(ref: ImageRef): Promise<string[]>;
}
