/**
 * The classic builder's JSON stream (`{"stream": "Step 2/4 : RUN make\n"}`,
 * `{"aux": {"ID": "sha256:…"}}`, `{"error": …}`) as lines, the current step,
 * and on failure the step and the last lines of its output.
 */
export class BuildOutput {
  private step: string | null = null;
  private stepLines: string[] = [];
  private imageId: string | null = null;
  private error: string | null = null;
  private partial = '';

  /** Feed one event; returns the complete lines it finished. */
  push(ev: { stream?: string; aux?: { ID?: string }; error?: string; errorDetail?: { message?: string } }): string[] {
    if (ev.aux?.ID) this.imageId = ev.aux.ID;
    if (ev.error || ev.errorDetail) this.error = (ev.errorDetail?.message ?? ev.error ?? 'build failed').trim();
    if (!ev.stream) return [];
    const text = this.partial + ev.stream;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    const lines = parts.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
    for (const l of lines) {
      if (/^Step \d+\/\d+ : /.test(l)) {
        this.step = l;
        this.stepLines = [];
      } else {
        this.stepLines.push(l);
        if (this.stepLines.length > 200) this.stepLines.shift();
      }
      const id = /^Successfully built ([0-9a-f]{12,64})$/.exec(l);
      if (id && !this.imageId) this.imageId = id[1]!;
    }
    return lines;
  }

  /** `Step N/M` of the current step, for progress. */
  progress(): string | null {
    return this.step ? /^Step (\d+\/\d+)/.exec(this.step)![1]! : null;
  }

  result(): { imageId: string } | { error: string; step: string | null; tail: string[] } {
    if (this.error !== null || this.imageId === null) {
      // The builder's own bookkeeping (` ---> Running in …`) says nothing about the failure.
      const tail = this.stepLines.filter((l) => !/^ ---> /.test(l) && !/^Removing intermediate container/.test(l)).slice(-10);
      return { error: this.error ?? 'the build ended without an image', step: this.step, tail };
    }
    return { imageId: this.imageId };
  }
}
