import type { ForgeSpec } from '../model/desired.js';
import type { ForgePort } from '../ports/forge.js';
import { GiteaForge } from './gitea.js';
import { GitHubForge } from './github.js';
import { GitLabForge } from './gitlab.js';
import type { FetchLike } from './http.js';

export function createForge(spec: ForgeSpec, fetchImpl?: FetchLike): ForgePort {
  switch (spec.type) {
    case 'github':
      return new GitHubForge(spec, fetchImpl);
    case 'gitea':
      return new GiteaForge(spec, fetchImpl);
    case 'gitlab':
      return new GitLabForge(spec, fetchImpl);
  }
}
