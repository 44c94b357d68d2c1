/**
 * berth's window on Traefik: its API (v3 shapes, only the fields berth reads)
 * and its Prometheus metrics. The rollout bake gate reads it; the fetch
 * adapter (adapters/traefik-http.ts) is the only implementation that talks
 * HTTP. Names are as Traefik reports them, qualified with the provider
 * (`web-mystack@docker`).
 */

/** One entry of `GET /api/http/services`. */
export interface TraefikService {
  name: string;
  provider?: string;
  /** `enabled` | `disabled` | `warning` */
  status?: string;
  /** `loadbalancer` | `weighted` | `mirroring` | `failover` */
  type?: string;
  loadBalancer?: { servers?: { url?: string }[] };
  /** Server URL → `UP` | `DOWN`. Present once a router uses the service (Traefik built its handler). */
  serverStatus?: Record<string, string>;
  /** Routers that use this service. */
  usedBy?: string[];
}

/** One entry of `GET /api/http/routers`. */
export interface TraefikRouter {
  name: string;
  provider?: string;
  rule?: string;
  /** As configured: unqualified (`web-mystack`) means "of the router's own provider". */
  service?: string;
  status?: string;
  entryPoints?: string[];
  using?: string[];
}

/**
 * The three metric families berth reads from Traefik's Prometheus endpoint,
 * summed over the labels berth does not use (method, protocol, entrypoint).
 */
export interface TraefikMetrics {
  /** `traefik_service_requests_total`: responses per service and status code. */
  requests: { service: string; code: number; count: number }[];
  /** `traefik_service_request_duration_seconds_bucket`: cumulative, per service and upper bound (seconds, Infinity for +Inf). */
  durationBuckets: { service: string; le: number; count: number }[];
  /** `traefik_service_server_up`. */
  serverUp: { service: string; url: string; up: boolean }[];
}

export interface TraefikPort {
  services(): Promise<TraefikService[]>;
  routers(): Promise<TraefikRouter[]>;
  overview(): Promise<unknown>;
  /** null when Traefik serves no metrics endpoint (404): the ratio checks are then skipped. */
  metrics(): Promise<TraefikMetrics | null>;
}

/**
 * A failed Traefik call. The message never holds credentials (the API URL may
 * carry a password as userinfo); `status` is the HTTP status, null when no
 * response came.
 */
export class TraefikError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}
