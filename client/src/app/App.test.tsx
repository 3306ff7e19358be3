import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { installFakeEventSource, jsonResponse, stubApi } from '../testing/fake-api';
import { App } from './App';
import { ErrorBoundary } from './ErrorBoundary';

const at = '2026-11-24T10:00:00.000Z';
const tenDone = {
  index: 10,
  status: 'done',
  submissions: 1,
  firstSubmittedAt: at,
  lastSubmittedAt: at,
  lastSubmissionId: '1',
  value: '55',
  digits: 2,
  truncated: false,
};
const tenDetail = { index: 10, status: 'done', value: '55', digits: 2, computedAt: at, computeMs: 0.1 };

beforeEach(() => {
  installFakeEventSource();
  stubApi({
    'GET /api/limits': () => jsonResponse({ maxIndex: 100_000 }),
    'GET /api/values': () => jsonResponse({ items: [tenDone], nextCursor: null }),
    'GET /api/values/10': () => jsonResponse(tenDetail),
  });
});

function openAt(path: string) {
  window.history.replaceState(null, '', path);
  render(<App />);
}

const chip = () => within(screen.getByRole('region', { name: 'Indexes I have seen' })).findByRole('link', { name: '10' });

describe('App routing', () => {
  it('renders the detail page for a deep link, leaving the focus where a page load puts it', async () => {
    openAt('/values/10');
    expect(await screen.findByRole('heading', { level: 1, name: 'Fibonacci(10)' })).toBeInTheDocument();
    expect(await screen.findByTestId('whole-value')).toHaveTextContent('55');
    expect(screen.getByRole('heading', { level: 1 })).not.toHaveFocus();
    expect(screen.getByRole('main')).toBeInTheDocument();
  });

  it('follows links without a page load, naming and focusing each page by its heading, and the back button', async () => {
    openAt('/');
    expect(document.title).toBe('Fibonacci calculator — fibstack');
    const user = userEvent.setup();
    await user.click(await chip());
    expect(window.location.pathname).toBe('/values/10');
    const heading = await screen.findByRole('heading', { level: 1, name: 'Fibonacci(10)' });
    expect(heading).toHaveFocus();
    expect(document.title).toBe('Fibonacci(10) — fibstack');

    act(() => {
      window.history.back();
    });
    await vi.waitFor(() => expect(window.location.pathname).toBe('/'));
    act(() => {
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Fibonacci calculator' })).toHaveFocus();
    expect(document.title).toBe('Fibonacci calculator — fibstack');
  });

  it('leaves modified clicks to the browser', async () => {
    openAt('/');
    const link = await chip();
    const click = new MouseEvent('click', { bubbles: true, cancelable: true, ctrlKey: true });
    act(() => {
      link.dispatchEvent(click);
    });
    expect(click.defaultPrevented).toBe(false);
    expect(screen.getByRole('heading', { level: 1, name: 'Fibonacci calculator' })).toBeInTheDocument();
  });

  it('says when a path names no page', () => {
    openAt('/nowhere');
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(document.title).toBe('Page not found — fibstack');
    expect(screen.getByRole('link', { name: 'Back to the calculator' })).toHaveAttribute('href', '/');
  });
});

describe('ErrorBoundary', () => {
  it('shows an error with Retry instead of a blank page when a page fails', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const Broken = () => {
      throw new Error('chunk failed to load');
    };
    render(
      <ErrorBoundary>
        <Broken />
      </ErrorBoundary>,
    );
    expect(screen.getByRole('alert')).toHaveTextContent('This page could not be shown');
    expect(screen.getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });
});
