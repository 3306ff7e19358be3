import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource, installFakeEventSource } from '../testing/fake-api';
import { useResultEvents } from './use-result-events';

const at = '2026-11-24T10:00:00.000Z';
const result = (index: number) => ({ index, value: '1', digits: 1, truncated: false, computeMs: 0.1, computedAt: at });

beforeEach(() => {
  installFakeEventSource();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => vi.useRealTimers());

function listen() {
  const handlers = { onResult: vi.fn(), onOpen: vi.fn(), onMissed: vi.fn() };
  const hook = renderHook(() => useResultEvents(handlers));
  return { handlers, hook };
}

/** The browser gave up on the stream (an HTTP error); the hook opens a new one after its delay. */
function giveUpAndResubscribe() {
  act(() => FakeEventSource.last!.fail({ gaveUp: true }));
  act(() => {
    vi.runOnlyPendingTimers();
  });
}

describe('useResultEvents', () => {
  it('opens a new stream from the last event id it received when the browser gives up', () => {
    listen();
    expect(FakeEventSource.last!.url).toBe('/api/events');
    act(() => FakeEventSource.last!.start({ lastEventId: '41' }));
    act(() => FakeEventSource.last!.emit('result', result(7), '42'));
    giveUpAndResubscribe();
    expect(FakeEventSource.opened).toBe(2);
    expect(FakeEventSource.last!.url).toBe('/api/events?lastEventId=42');
    // Still none received on the new stream: the next one resumes from the same id.
    giveUpAndResubscribe();
    expect(FakeEventSource.last!.url).toBe('/api/events?lastEventId=42');
  });

  it('starts afresh when it never received an id', () => {
    listen();
    giveUpAndResubscribe();
    expect(FakeEventSource.last!.url).toBe('/api/events');
  });

  it('says results may have been missed only when a stream starts without resuming', () => {
    const { handlers } = listen();
    act(() => FakeEventSource.last!.start({ resumed: false, lastEventId: '3' }));
    expect(handlers.onMissed).toHaveBeenCalledTimes(1);
    act(() => FakeEventSource.last!.fail());
    act(() => FakeEventSource.last!.start({ resumed: true, lastEventId: '3' }));
    expect(handlers.onMissed).toHaveBeenCalledTimes(1);
    act(() => FakeEventSource.last!.fail());
    act(() => FakeEventSource.last!.start({ resumed: false, lastEventId: '1200' }));
    expect(handlers.onMissed).toHaveBeenCalledTimes(2);
    expect(handlers.onOpen).toHaveBeenCalledTimes(3);
  });

  it('hands over well-formed results only, and keeps the id of the last one it took', () => {
    const { handlers } = listen();
    act(() => FakeEventSource.last!.start({ lastEventId: '1' }));
    act(() => FakeEventSource.last!.emit('result', result(5), '2'));
    act(() => FakeEventSource.last!.emit('result', { index: 'x' }, '3'));
    act(() => FakeEventSource.last!.emit('ready', { resumed: 'no' }, '4'));
    expect(handlers.onResult.mock.calls).toEqual([[result(5)]]);
    expect(handlers.onMissed).toHaveBeenCalledTimes(1);
    giveUpAndResubscribe();
    expect(FakeEventSource.last!.url).toBe('/api/events?lastEventId=2');
  });

  it('reports the stream paused while it is down and resumed once it is back', () => {
    const { hook } = listen();
    expect(hook.result.current.status).toBe('connecting');
    act(() => FakeEventSource.last!.start());
    expect(hook.result.current.status).toBe('live');
    expect(hook.result.current.isOpen()).toBe(true);
    act(() => FakeEventSource.last!.fail());
    expect(hook.result.current.status).toBe('paused');
    expect(hook.result.current.isOpen()).toBe(false);
    act(() => FakeEventSource.last!.start({ resumed: true }));
    expect(hook.result.current.status).toBe('resumed');
  });
});
