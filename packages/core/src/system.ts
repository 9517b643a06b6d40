// The only module of the core that reads the wall clock or randomness: the defaults a ledger
// uses when the caller injects no clock or id generator. Everything else gets them passed in.

/** A source of time. */
export interface Clock {
  now(): Date;
}

/** A source of unique, sortable ids. */
export interface IdGenerator {
  next(): string;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date() };

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** ULIDs (48-bit millisecond time, 80 random bits, Crockford base32) from the wall clock. */
export function ulidGenerator(clock: Clock = systemClock): IdGenerator {
  return {
    next(): string {
      let time = clock.now().getTime();
      let timePart = "";
      for (let i = 0; i < 10; i++) {
        timePart = CROCKFORD[time % 32] + timePart;
        time = Math.floor(time / 32);
      }
      const random = globalThis.crypto.getRandomValues(new Uint8Array(16));
      let randomPart = "";
      for (let i = 0; i < 16; i++) randomPart += CROCKFORD[(random[i] as number) % 32];
      return timePart + randomPart;
    },
  };
}
