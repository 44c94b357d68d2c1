// A Docker Swarm on the private test bed (test/support/private-dockerd.ts,
// TestBed): each node a private engine standing in for a machine, all on the
// bed's bridge. The first engine `docker swarm init`s on its bridge address,
// the others join it as workers. The kernel here has no IPVS: a service's VIP
// and the ingress mesh do not work — tests use `endpoint_mode: dnsrr` and
// publish no ingress ports.
import { TestBed, type PrivateDockerd } from './private-dockerd.js';

export class PrivateSwarm {
  private constructor(private readonly bed: TestBed) {}

  /** The engines, nodes[0] the manager; their hostnames (`node-1`, …) are the swarm's node names. */
  get nodes(): PrivateDockerd[] {
    return this.bed.engines;
  }

  get manager(): PrivateDockerd {
    return this.bed.engines[0]!;
  }

  /** `size` engines with `images` loaded, the first the manager, the others workers. */
  static async start(size: number, images: string[]): Promise<PrivateSwarm> {
    const swarm = new PrivateSwarm(await TestBed.start(size, { images, prefix: 'node' }));
    try {
      const [manager, ...workers] = swarm.nodes;
      await swarm.must(manager!, ['swarm', 'init', '--advertise-addr', manager!.ip!]);
      const token = (await swarm.must(manager!, ['swarm', 'join-token', '-q', 'worker'])).trim();
      await Promise.all(workers.map((w) => swarm.must(w, ['swarm', 'join', '--advertise-addr', w.ip!, '--token', token, `${manager!.ip}:2377`])));
      return swarm;
    } catch (e) {
      await swarm.destroy();
      throw e;
    }
  }

  private async must(d: PrivateDockerd, args: string[]): Promise<string> {
    const r = await d.docker(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} on ${d.name}: ${r.stderr}`);
    return r.stdout;
  }

  /** The docker CLI against the manager. */
  docker(args: string[]) {
    return this.manager.docker(args);
  }

  async destroy(): Promise<void> {
    // Leaving first: a node still in the swarm gets its tasks back as fast as they are removed.
    await Promise.all(this.nodes.map((d) => d.docker(['swarm', 'leave', '--force'], 30_000)));
    await this.bed.destroy();
  }
}
