import type { TicketAvailability } from '@ticketpulse/protocol';

export type HeldItems = ReadonlyArray<{ ticketTypeId: string; quantity: number }>;

/** What applyOptimisticHold() returns: the hold shown before the server has counted it. */
export interface OptimisticHold {
  /** The hold failed: take its seats back out. */
  rollback(): void;
  /** The hold succeeded: keep showing it until this version (the response's availabilityVersion) is applied. */
  settle(availabilityVersion: number): void;
}

/** Seats the user's own holds take, shown before the server confirms them. */
interface ShownHold {
  id: number;
  /** Server version when the hold was made: without `includedIn`, any newer version is taken to include it. */
  baseVersion: number;
  /** The version the server said includes it (a hold response's availabilityVersion), once known. */
  includedIn?: number;
  items: HeldItems;
}

function withHeld(t: TicketAvailability, quantity: number): TicketAvailability {
  if (t.isUnlimited || t.availableCount === null || t.actualAvailable === null || t.reservedCount === null) return t;
  const available = Math.max(0, t.availableCount - quantity);
  return {
    ...t,
    reservedCount: t.reservedCount + quantity,
    availableCount: available,
    actualAvailable: available,
    isSoldOut: available === 0,
    status: available === 0 ? 'sold_out' : t.status,
  };
}

/** The user's own unconfirmed holds on one event, until the server's state includes them. */
export class OptimisticHolds {
  private holds: ShownHold[] = [];
  private nextId = 1;

  /** Returns the hold's id, for `remove`. */
  add(items: HeldItems, baseVersion: number): number {
    const id = this.nextId++;
    this.holds.push({ id, baseVersion, items });
    return id;
  }

  remove(id: number): void {
    this.holds = this.holds.filter((hold) => hold.id !== id);
  }

  /** The server answered: the hold is in `version`, and shown by us until that version is applied. */
  includeIn(id: number, version: number): void {
    this.holds = this.holds.map((hold) => (hold.id === id ? { ...hold, includedIn: version } : hold));
  }

  /** Drops the holds the applied server version already counts. */
  settle(version: number): void {
    this.holds = this.holds.filter((hold) => (hold.includedIn === undefined ? hold.baseVersion >= version : hold.includedIn > version));
  }

  /** The server's tickets as the user should see them, with their own holds taken out. */
  applyTo(tickets: Map<string, TicketAvailability>): Map<string, TicketAvailability> {
    if (this.holds.length === 0) return tickets;
    const visible = new Map(tickets);
    for (const hold of this.holds) {
      for (const { ticketTypeId, quantity } of hold.items) {
        const t = visible.get(ticketTypeId);
        if (t) visible.set(ticketTypeId, withHeld(t, quantity));
      }
    }
    return visible;
  }
}
