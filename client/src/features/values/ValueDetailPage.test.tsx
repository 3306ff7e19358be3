import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../app/App';
import { FakeEventSource, installFakeEventSource, jsonResponse, stubApi } from '../../testing/fake-api';

const at = '2026-11-24T10:00:00.000Z';
const whole = '9'.repeat(300);

beforeEach(() => installFakeEventSource());

function openAt(path: string) {
  window.history.replaceState(null, '', path);
  render(<App />);
}

describe('value detail page', () => {
  it('renders from a deep link with the whole value and copies it', async () => {
    stubApi({
      'GET /api/values/1400': () =>
        jsonResponse({ index: 1400, status: 'done', value: whole, digits: 300, computedAt: at, computeMs: 0.4 }),
    });
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    openAt('/values/1400');
    expect(await screen.findByTestId('whole-value')).toHaveTextContent(whole);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Fibonacci(1400)');
    expect(screen.getByText('300')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith(whole);
    expect(await screen.findByText('Copied')).toBeInTheDocument();
  });

  it('explains when the clipboard is not available', async () => {
    stubApi({
      'GET /api/values/10': () => jsonResponse({ index: 10, status: 'done', value: '55', digits: 2, computedAt: at, computeMs: 0.1 }),
    });
    vi.stubGlobal('navigator', { ...navigator, clipboard: undefined });
    openAt('/values/10');
    expect(await screen.findByText('55')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Copying is not available here');
  });

  it('shows an error banner with Retry when the API is down', async () => {
    let up = false;
    stubApi({
      'GET /api/values/10': () =>
        up
          ? jsonResponse({ index: 10, status: 'done', value: '55', digits: 2, computedAt: at, computeMs: 0.1 })
          : jsonResponse({ error: { code: 'service_unavailable', message: 'the database is not reachable' } }, 503),
    });
    openAt('/values/10');
    expect(await screen.findByRole('alert')).toHaveTextContent('the database is not reachable');
    up = true;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('55')).toBeInTheDocument();
  });

  it('updates a pending value when its result arrives', async () => {
    let done = false;
    stubApi({
      'GET /api/values/20': () =>
        jsonResponse(done ? { index: 20, status: 'done', value: '6765', digits: 4, computedAt: at, computeMs: 0.1 } : { index: 20, status: 'pending' }),
    });
    openAt('/values/20');
    expect(await screen.findByText(/Computing…/)).toBeInTheDocument();
    done = true;
    act(() => FakeEventSource.last!.emit('result', { index: 20, value: '6765', digits: 4, truncated: false, computeMs: 0.1, computedAt: at }));
    expect(await screen.findByText('6765')).toBeInTheDocument();
    expect(screen.getByText('Fibonacci(20) is ready.')).toBeInTheDocument();
  });

  it('fetches a pending value again when the stream opens, as its event may have gone by', async () => {
    let done = false;
    const calls = stubApi({
      'GET /api/values/20': () =>
        jsonResponse(done ? { index: 20, status: 'done', value: '6765', digits: 4, computedAt: at, computeMs: 0.1 } : { index: 20, status: 'pending' }),
    });
    openAt('/values/20');
    expect(await screen.findByText(/Computing…/)).toBeInTheDocument();
    done = true;
    act(() => FakeEventSource.last!.emit('open'));
    expect(await screen.findByTestId('whole-value')).toHaveTextContent('6765');
    expect(calls).toEqual(['GET /api/values/20', 'GET /api/values/20']);
  });

  it('says when an index was never submitted', async () => {
    stubApi({ 'GET /api/values/77': () => jsonResponse({ error: { code: 'not_found', message: 'no' } }, 404) });
    openAt('/values/77');
    expect(await screen.findByText(/Index 77 has not been submitted yet/)).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Submit it on the calculator' })).toHaveAttribute('href', '/');
  });

  it.each([
    ['abc', 'index must be a number, got the string "abc"'],
    ['-3', 'index must not be negative, got -3'],
    ['100001', 'index must be at most 100000, got 100001'],
    ['010', 'write it as digits only'],
  ])('refuses /values/%s without calling the API', async (param, message) => {
    const calls = stubApi({});
    openAt(`/values/${param}`);
    expect(await screen.findByRole('alert')).toHaveTextContent(`“${param}” is not an index: ${message}.`);
    expect(screen.getByRole('link', { name: 'Back to the calculator' })).toHaveAttribute('href', '/');
    expect(calls).toEqual([]);
  });
});
