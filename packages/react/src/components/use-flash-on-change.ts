import { useEffect, useRef, type RefObject } from 'react';

const FLASH_CLASS = 'tp-flash';

/**
 * Replays the `tp-flash` animation on the returned element whenever `value`
 * changes; undefined (not known yet) to a value is an arrival, not a change.
 * Done on the DOM node, not through state, so a change costs no second render.
 */
export function useFlashOnChange<T extends HTMLElement>(value: string | undefined): RefObject<T | null> {
  const ref = useRef<T>(null);
  const previous = useRef(value);
  useEffect(() => {
    const before = previous.current;
    previous.current = value;
    const element = ref.current;
    if (before === undefined || before === value || !element) return;
    element.classList.remove(FLASH_CLASS);
    void element.offsetWidth; // a reflow, so that adding the class again restarts the animation
    element.classList.add(FLASH_CLASS);
  }, [value]);
  return ref;
}
