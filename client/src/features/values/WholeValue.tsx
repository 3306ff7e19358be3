import { useEffect, useId, useState } from 'react';
import type { ValueDetail } from '@fibstack/contract/values';
import { Link } from '../../lib/router';
import { CopyButton } from './CopyButton';

type DoneDetail = Extract<ValueDetail, { status: 'done' }>;

const GROUP = 10;
/** Longer values show this many digits until "Show all digits": a phone screen, not 15,000 px of digits. */
const COLLAPSED_DIGITS = 500;

/**
 * Digits in blocks of ten, spaced by CSS alone: selecting and copying yields the plain number, and a
 * line may break between blocks.
 */
function DigitGroups({ digits }: { digits: string }) {
  const groups: string[] = [];
  for (let start = 0; start < digits.length; start += GROUP) groups.push(digits.slice(start, start + GROUP));
  return groups.map((group, i) => (
    <span key={i} className="digit-group">
      {group}
    </span>
  ));
}

/** A link that downloads `text` as a file; the object URL lives as long as the link. */
function DownloadLink({ text, filename }: { text: string; filename: string }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const objectUrl = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [text]);
  return url ? (
    <a className="action" href={url} download={filename}>
      Download
    </a>
  ) : null;
}

/** A computed value with its facts, Copy, Download (long values) and Back, digits grouped and long ones collapsed. */
export function WholeValue({ detail }: { detail: DoneDetail }) {
  const [expanded, setExpanded] = useState(false);
  const valueId = useId();
  const long = detail.digits > COLLAPSED_DIGITS;
  const shown = long && !expanded ? detail.value.slice(0, COLLAPSED_DIGITS) : detail.value;
  return (
    <>
      <dl className="facts">
        <dt>Digits</dt>
        <dd>{detail.digits.toLocaleString('en')}</dd>
        <dt>Computed in</dt>
        <dd>{detail.computeMs < 1 ? '< 1' : Math.round(detail.computeMs).toLocaleString('en')} ms</dd>
        <dt>Computed at</dt>
        <dd>
          <time dateTime={detail.computedAt}>
            {new Date(detail.computedAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })}
          </time>
        </dd>
      </dl>
      <div className="actions">
        <CopyButton text={detail.value} />
        {long && <DownloadLink text={detail.value} filename={`fibonacci-${detail.index}.txt`} />}
        <Link className="action" href="/">
          Back to the calculator
        </Link>
      </div>
      <p className="whole-value" id={valueId} data-testid="whole-value">
        <DigitGroups digits={shown} />
        {long && !expanded && (
          <span className="more-digits">… and {(detail.digits - COLLAPSED_DIGITS).toLocaleString('en')} more digits</span>
        )}
      </p>
      {long && (
        <button type="button" aria-expanded={expanded} aria-controls={valueId} onClick={() => setExpanded(!expanded)}>
          {expanded ? 'Show fewer digits' : `Show all ${detail.digits.toLocaleString('en')} digits`}
        </button>
      )}
    </>
  );
}
