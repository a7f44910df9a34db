import { postgresUrl } from './database.ts';

/** TEST_DATABASE_URL for a child process that must work in one schema (and, optionally, name its connections). */
export function schemaUrl(schema: string, applicationName?: string): string {
  const url = new URL(postgresUrl!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  if (applicationName) url.searchParams.set('application_name', applicationName);
  return url.toString();
}
