import pg from 'pg';

/**
 * Decides once whether the real-PostgreSQL tests run. They need
 * TEST_DATABASE_URL; under CI=true they must run, never skip.
 */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    if (process.env.CI === 'true') throw new Error('CI=true but TEST_DATABASE_URL is not set: real-PostgreSQL tests cannot be skipped in CI');
    console.log(
      '\nSkipping real-PostgreSQL tests: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (or run .ci/run) to enable them.\n',
    );
    return;
  }
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is unreachable: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
