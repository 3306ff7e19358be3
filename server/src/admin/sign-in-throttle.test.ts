import { describe, expect, it } from 'vitest';
import { SignInThrottle } from './sign-in-throttle.js';

describe('SignInThrottle', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => void (now += ms) };
  };

  it('lets an address try `limit` times per window, then makes it wait out the window, counted from its first failure', () => {
    const time = clock();
    const throttle = new SignInThrottle(3, 60_000, time.now);
    for (let attempt = 0; attempt < 3; attempt++) {
      expect(throttle.secondsToWait('a')).toBe(0);
      throttle.failed('a');
      time.advance(10_000);
    }
    expect(throttle.secondsToWait('a')).toBe(30);
    expect(throttle.secondsToWait('b')).toBe(0);
    time.advance(29_999);
    expect(throttle.secondsToWait('a')).toBe(1);
    time.advance(1);
    expect(throttle.secondsToWait('a')).toBe(0);
    // A new window: three more tries.
    for (let attempt = 0; attempt < 3; attempt++) throttle.failed('a');
    expect(throttle.secondsToWait('a')).toBe(60);
  });

  it('remembers at most `maxTracked` addresses, forgetting ended windows first, then the oldest', () => {
    const time = clock();
    const throttle = new SignInThrottle(1, 60_000, time.now, 3);
    throttle.failed('old');
    time.advance(60_000);
    for (const address of ['a', 'b', 'c']) throttle.failed(address);
    // 'old' had ended, so it made room: a, b and c are all still refused.
    expect(['a', 'b', 'c'].map((address) => throttle.secondsToWait(address))).toEqual([60, 60, 60]);
    throttle.failed('d');
    expect(['a', 'b', 'c', 'd'].map((address) => throttle.secondsToWait(address))).toEqual([0, 60, 60, 60]);
  });
});
