/** Joins the class names that are set. */
export function classNames(...names: Array<string | undefined>): string {
  return names.filter(Boolean).join(' ');
}
