import { useCallback, useEffect, useRef, useState } from 'react';

export type ToastTone = 'info' | 'warning' | 'danger' | 'success';

export interface Toast {
  id: number;
  message: string;
  tone: ToastTone;
}

const TOAST_MS = 8000;
const MAX_TOASTS = 4;

/** Short messages that leave on their own (or when dismissed); the newest few are kept. */
export function useToasts(): { toasts: Toast[]; push: (message: string, tone?: ToastTone) => void; dismiss: (id: number) => void } {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (message: string, tone: ToastTone = 'info') => {
      const id = nextId.current++;
      setToasts((list) => [...list, { id, message, tone }].slice(-MAX_TOASTS));
      const timer = setTimeout(() => {
        timers.current.delete(timer);
        dismiss(id);
      }, TOAST_MS);
      timers.current.add(timer);
    },
    [dismiss],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) clearTimeout(timer);
    };
  }, []);

  return { toasts, push, dismiss };
}
