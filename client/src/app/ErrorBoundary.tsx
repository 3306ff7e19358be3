import { Component, type ReactNode } from 'react';

interface State {
  failed: boolean;
}

/**
 * Shows a way out instead of a blank page when a page throws while rendering, for instance when its
 * code chunk cannot be downloaded (offline, or replaced by a newer release).
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="banner" role="alert">
        <p>This page could not be shown. Check your connection and try again.</p>
        <button type="button" onClick={() => window.location.reload()}>
          Retry
        </button>
      </div>
    );
  }
}
