// Validated configuration and metadata are handed out frozen, so no caller can change what another sees.

/** Freezes `value` and everything reachable from it (a frozen object's children are taken as frozen). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
