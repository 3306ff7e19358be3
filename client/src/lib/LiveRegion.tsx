import { useCallback, useState } from 'react';

export interface Announcement {
  text: string;
  /** A new node per announcement: a repeated text is read again, which an unchanged text would not be. */
  id: number;
}

let announcements = 0;

/** What a polite live region should say next. */
export function useAnnouncer(): [Announcement | undefined, (text: string) => void] {
  const [announcement, setAnnouncement] = useState<Announcement>();
  const announce = useCallback((text: string) => setAnnouncement({ text, id: ++announcements }), []);
  return [announcement, announce];
}

/** A hidden polite live region; it exists from the start so screen readers watch it before it speaks. */
export function LiveRegion({ announcement }: { announcement: Announcement | undefined }) {
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true">
      {announcement && <p key={announcement.id}>{announcement.text}</p>}
    </div>
  );
}
