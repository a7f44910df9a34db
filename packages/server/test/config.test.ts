import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('has sane defaults: port 3000, 15-minute holds, sweeps every second, dev tokens off', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      devAuth: false,
      holds: { holdSeconds: 900, extensionSeconds: 300, maxExtensions: 2 },
      sweepIntervalMs: 1000,
    });
    expect(loadConfig({}, { demo: true }).devAuth).toBe(true);
    expect(loadConfig({ TICKETPULSE_DEV_AUTH: '0' }, { demo: true }).devAuth).toBe(false);
    expect(loadConfig({ TICKETPULSE_DEV_AUTH: '1' }, { demo: true }).devAuth).toBe(true);
    // Dev tokens are demo-only: anyone could mint an organizer token.
    expect(() => loadConfig({ TICKETPULSE_DEV_AUTH: '1' })).toThrow('Invalid configuration: TICKETPULSE_DEV_AUTH needs --demo');
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
  });

  it('says which range a whole-number setting takes, whatever is wrong with the value', () => {
    for (const value of ['abc', '1.5', '0', '1001']) {
      expect(() => loadConfig({ TICKETPULSE_DB_POOL_SIZE: value })).toThrow('Invalid configuration: TICKETPULSE_DB_POOL_SIZE must be a whole number from 1 to 1000');
    }
    expect(loadConfig({ TICKETPULSE_DB_POOL_SIZE: '25' }).poolSize).toBe(25);
  });

  it('logs for a person in a terminal or the demo, JSON lines otherwise, and LOG_FORMAT decides when set', () => {
    expect(loadConfig({}).logFormat).toBe('json');
    expect(loadConfig({}, { terminal: true }).logFormat).toBe('pretty');
    expect(loadConfig({}, { demo: true }).logFormat).toBe('pretty');
    expect(loadConfig({ LOG_FORMAT: 'json' }, { demo: true, terminal: true }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['TICKETPULSE_JWT_SECRET', 'short'],
    ['TICKETPULSE_DEV_AUTH', 'maybe'],
    ['TICKETPULSE_REDIS_URL', 'http://127.0.0.1:6379'],
    ['TICKETPULSE_REDIS_URL', 'not a url'],
    ['TICKETPULSE_HOLD_SECONDS', '0'],
    ['TICKETPULSE_SWEEP_INTERVAL_MS', '1.5'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'yaml'],
    ['TICKETPULSE_DB_APP_ROLE', 'app; RESET ROLE'],
    // A role needs PostgreSQL: PGlite has one user, the owner.
    ['TICKETPULSE_DB_APP_ROLE', 'ticketpulse_app'],
    ['TICKETPULSE_CORS_ORIGINS', '*'],
  ])('refuses %s=%s with one line naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).not.toContain('\n');
  });
});
