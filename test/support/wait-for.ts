/** Poll `cond` until it holds; throws after `timeoutMs` (a guard against hangs, not a timed assertion). */
export async function waitFor(cond: () => Promise<boolean>, timeoutMs = 15_000, pollMs = 200): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
