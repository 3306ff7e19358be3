/**
 * Failed sign-ins per client address, counted in this process. After `limit` failures within `windowMs`
 * of the first, every attempt from that address, right or wrong, is refused until the window ends: a
 * guesser gets `limit` tries per window (per replica, each counting its own), and learns nothing from
 * the refused ones. At most `maxTracked` addresses are remembered, so many addresses cannot fill memory.
 */
export class SignInThrottle {
  private readonly failures = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxTracked = 10_000,
  ) {}

  /** Seconds until `address` may try again; 0 when it may now. */
  secondsToWait(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const left = entry.endsAt - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil(left / 1000) : 0;
  }

  /** Counts a failed attempt from `address`. */
  failed(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (entry && entry.endsAt > now) {
      entry.count++;
      return;
    }
    this.failures.delete(address);
    this.makeRoom(now);
    this.failures.set(address, { count: 1, endsAt: now + this.windowMs });
  }

  private makeRoom(now: number): void {
    if (this.failures.size < this.maxTracked) return;
    for (const [address, entry] of this.failures) if (entry.endsAt <= now) this.failures.delete(address);
    // Still full: forget the oldest windows first (a Map iterates in insertion order).
    for (const address of this.failures.keys()) {
      if (this.failures.size < this.maxTracked) break;
      this.failures.delete(address);
    }
  }
}
