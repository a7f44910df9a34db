import { describe, expect, it } from 'vitest';
import { queueAnnouncement, type Seen } from '../src/hooks/use-queue-announcement.ts';
import { formatWait } from '../src/format.ts';

const waiting: Seen = { status: 'waiting', position: 40, peopleAhead: 39, isYourTurn: false, passSecondsLeft: null, soldOut: false };

describe('the waiting room announcements', () => {
  it('says nothing for what only ticks: the line moving, countdowns', () => {
    expect(queueAnnouncement(waiting, { ...waiting })).toBeNull();
    const turn: Seen = { ...waiting, status: 'admitted', isYourTurn: true, passSecondsLeft: 500 };
    expect(queueAnnouncement(turn, { ...turn, passSecondsLeft: 499 })).toBeNull();
    expect(queueAnnouncement({ ...turn, passSecondsLeft: 59 }, { ...turn, passSecondsLeft: 58 })).toBeNull();
  });

  it('announces joining, places drawn, the turn, its end coming, and sold out, each once', () => {
    const outside: Seen = { ...waiting, status: 'not_joined', position: null, peopleAhead: null };
    const prequeue: Seen = { ...waiting, status: 'prequeue', position: null, peopleAhead: null };
    expect(queueAnnouncement(outside, prequeue)).toBe('You joined the waiting room. Places are drawn when it opens.');
    expect(queueAnnouncement(prequeue, waiting)).toBe('Places are drawn: you are number 40 in line, with 39 people ahead of you.');
    expect(queueAnnouncement(outside, waiting)).toBe('You joined the line: you are number 40 in line, with 39 people ahead of you.');
    const turn: Seen = { ...waiting, status: 'admitted', isYourTurn: true, passSecondsLeft: 600 };
    expect(queueAnnouncement(waiting, turn)).toBe("It's your turn. You have 10 minutes to choose your tickets.");
    expect(queueAnnouncement({ ...turn, passSecondsLeft: 61 }, { ...turn, passSecondsLeft: 60 })).toBe('Your turn ends in less than a minute.');
    expect(queueAnnouncement(waiting, { ...waiting, status: 'sold_out', soldOut: true })).toBe('Sold out: every ticket has been sold.');
    expect(queueAnnouncement({ ...waiting, soldOut: true }, { ...waiting, soldOut: true })).toBeNull();
  });

  it('never promises more time than the pass has: seconds under a minute, whole minutes rounded down', () => {
    const turn: Seen = { ...waiting, status: 'admitted', isYourTurn: true, passSecondsLeft: 25 };
    expect(queueAnnouncement(waiting, turn)).toBe("It's your turn. You have 25 seconds to choose your tickets.");
    expect(queueAnnouncement(waiting, { ...turn, passSecondsLeft: 1 })).toBe("It's your turn. You have 1 second to choose your tickets.");
    expect(queueAnnouncement(waiting, { ...turn, passSecondsLeft: 119 })).toBe("It's your turn. You have 1 minute to choose your tickets.");
  });

  it('tells a visitor coming back where they are', () => {
    expect(queueAnnouncement({ ...waiting, status: 'unknown', position: null }, waiting)).toBe('You are number 40 in line, with 39 people ahead of you.');
    // Much of the line served meanwhile: the place stays 40, the people ahead say how far it is.
    expect(queueAnnouncement({ ...waiting, status: 'unknown', position: null }, { ...waiting, peopleAhead: 9 })).toBe('You are number 40 in line, with 9 people ahead of you.');
    expect(queueAnnouncement({ ...waiting, status: 'unknown', position: null }, { ...waiting, peopleAhead: 1 })).toBe('You are number 40 in line, with 1 person ahead of you.');
    expect(queueAnnouncement({ ...waiting, status: 'unknown', position: null }, { ...waiting, peopleAhead: 0 })).toBe('You are number 40 in line, with nobody ahead of you.');
  });
});

describe('formatWait', () => {
  it('rounds up to whole minutes, and to hours for long waits', () => {
    expect(formatWait(0)).toBe('under a minute');
    expect(formatWait(61)).toBe('about 2 minutes');
    expect(formatWait(60 * 60)).toBe('about 60 minutes');
    expect(formatWait(3 * 3600)).toBe('about 3 hours');
  });
});
