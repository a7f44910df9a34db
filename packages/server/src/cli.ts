import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, portNumber } from './config.ts';

/*
 * The command line: commands, options, help and usage errors. The commands
 * themselves (commands.ts, watch-command.ts) are loaded only when one runs,
 * so --help and usage errors answer at once.
 */

/** A mistake in the command line (unknown command or option, a bad value): one line on stderr, exit code 2. */
class UsageError extends Error {}

/** Exit codes: 0 done, 1 failed (invalid configuration included), 2 the command line is wrong. */
const EXIT_USAGE = 2;

/** More workers than this is a typo, not a plan: each is a whole node with its own database pool. */
const MAX_WORKERS = 64;

type Values = Record<string, string | boolean | undefined>;

interface Option {
  type: 'boolean' | 'string';
  short?: string;
  /** The value's name in the help, for string options. */
  value?: string;
  help: string;
}

interface Command {
  /** Positional arguments, all required. */
  args: string[];
  summary: string;
  /** A few lines after the summary, in `<command> --help`. */
  details: string;
  options: Record<string, Option>;
  /** The environment variables that matter most for this command. */
  env: Array<[name: string, meaning: string]>;
  run(values: Values, args: string[]): Promise<void>;
}

const HELP: Option = { type: 'boolean', short: 'h', help: 'show this help' };

const DATABASE_ENV: Array<[string, string]> = [
  ['DATABASE_URL', 'postgres://… to use PostgreSQL; unset: embedded PGlite under TICKETPULSE_DATA_DIR (.data)'],
  ['LOG_LEVEL', 'info (or fatal, error, warn, debug, trace, silent)'],
  ['LOG_FORMAT', 'json or pretty; default: pretty in a terminal or with --demo, else json'],
];

const COMMANDS: Record<string, Command> = {
  start: {
    args: [],
    summary: 'Migrate, then serve the API, live updates and the storefront',
    details: `Applies pending migrations (under a lock, so several nodes may start at once), then serves
the HTTP API, the realtime gateway, the storefront and the expiry sweeper until SIGINT or SIGTERM.`,
    options: {
      demo: { type: 'boolean', help: 'demo mode: dev tokens on, the demo events seeded into an empty database' },
      simulate: { type: 'boolean', help: 'with --demo: simulated buyers hold, buy and release seats from the start' },
      memory: { type: 'boolean', help: 'embedded database in memory: nothing kept under TICKETPULSE_DATA_DIR' },
      port: { type: 'string', value: 'N', help: 'HTTP port (instead of PORT; default 3000; 0 picks a free one)' },
      host: { type: 'string', value: 'HOST', help: 'interface to listen on (instead of HOST; default localhost, 0.0.0.0 for all)' },
      workers: { type: 'string', value: 'N|auto', help: `serve from N worker processes on one port (auto: one per core, at most ${MAX_WORKERS}; 1-${MAX_WORKERS}); needs DATABASE_URL` },
    },
    env: [
      ...DATABASE_ENV,
      ['TICKETPULSE_JWT_SECRET', 'HS256 secret for tokens; unset: generated and kept in TICKETPULSE_DATA_DIR'],
      ['TICKETPULSE_DEV_AUTH', 'with --demo, 0 turns POST /api/auth/dev-token off'],
      ['TICKETPULSE_BUS', 'how nodes and --workers tell each other of changes: postgres (default with DATABASE_URL), nats://host:4222, none'],
      ['TICKETPULSE_VAPID_*', 'Web Push keys (unset: generated once, kept in the database) and SUBJECT (set it in production)'],
      ['TICKETPULSE_PUSH_*', 'Web Push: ENDPOINT_HOSTS (allowed push services), INTERVAL_MS, TIMEOUT_MS, EXPIRY_WARNING_SECONDS'],
    ],
    run: async (values) => {
      const demo = flag(values, 'demo');
      // Simulated buyers make real holds and sales: never on a service that is not a demo.
      if (flag(values, 'simulate') && !demo) throw new UsageError('--simulate needs --demo: simulated buyers run only in the demo');
      const port = text(values, 'port');
      if (port !== undefined && !portNumber.safeParse(port).success) throw new UsageError(`--port must be a whole number from 0 to 65535, not "${port}"`);
      const host = text(values, 'host');
      if (host === '') throw new UsageError('--host must not be empty');
      const workers = workerCount(text(values, 'workers'));
      const { startCommand } = await import('./commands.ts');
      await startCommand({
        demo,
        simulate: flag(values, 'simulate'),
        memory: flag(values, 'memory'),
        ...(port !== undefined && { port: Number(port) }),
        ...(host !== undefined && { host }),
        ...(workers !== undefined && { workers }),
      });
    },
  },
  migrate: {
    args: [],
    summary: 'Apply pending database migrations and exit',
    details: '`start` migrates too; run this ahead of a deploy, or to migrate a database without serving it.',
    options: {},
    env: DATABASE_ENV,
    run: async () => (await import('./commands.ts')).migrateCommand(),
  },
  seed: {
    args: [],
    summary: 'Add the demo events that are missing and exit',
    details: 'Migrates first. Events that already exist (by slug) are left alone, so running it twice adds nothing.',
    options: {},
    env: DATABASE_ENV,
    run: async () => (await import('./commands.ts')).seedCommand(),
  },
  watch: {
    args: ['EVENT'],
    summary: "Print an event's live availability as it changes",
    details: `EVENT is an event's id or slug. Prints its counts, then every change, until interrupted.
Without a token it asks the service for a dev token (a demo service issues them).`,
    options: {
      url: { type: 'string', value: 'URL', help: 'the service (default http://localhost:3000)' },
      token: { type: 'string', value: 'JWT', help: 'the token to connect with (default: TICKETPULSE_TOKEN, else a dev token)' },
    },
    env: [['TICKETPULSE_TOKEN', 'the token when --token is not given']],
    run: async (values, [event]) => {
      const url = text(values, 'url') ?? 'http://localhost:3000';
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--url must be an http:// or https:// URL, not "${url}"`);
      const { watchEvent } = await import('./watch-command.ts');
      return watchEvent({ url: url.replace(/\/+$/, ''), event: event!, token: text(values, 'token') ?? process.env.TICKETPULSE_TOKEN, print: (line) => console.log(line) });
    },
  },
};

/** --workers: a whole number of processes, or `auto` for one per core (at most MAX_WORKERS, as for a number). */
function workerCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > MAX_WORKERS) throw new UsageError(`--workers must be auto or a whole number from 1 to ${MAX_WORKERS}, not "${value}"`);
  return count;
}

const text = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
const flag = (values: Values, name: string): boolean => values[name] === true;

function columns(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n');
}

function usage(): string {
  const commands = Object.entries(COMMANDS).map(([name, c]): [string, string] => [[name, ...c.args].join(' '), c.summary]);
  return `Usage: ticketpulse <command> [options]

Commands:
${columns(commands)}

Run ticketpulse <command> --help for a command's options.
Configuration comes from environment variables: every one is in README.md (Configuration);
the commands are in docs/cli.md. Exit codes: 0 done, 1 failed, 2 the command line is wrong.`;
}

function commandUsage(name: string, command: Command): string {
  const options = Object.entries({ ...command.options, help: HELP }).map(([option, o]): [string, string] => [
    `${o.short ? `-${o.short}, ` : ''}--${option}${o.value ? ` ${o.value}` : ''}`,
    o.help,
  ]);
  return `Usage: ticketpulse ${[name, ...command.args].join(' ')} [options]

${command.summary}.
${command.details}

Options:
${columns(options)}

Environment (all variables: README.md, Configuration):
${columns(command.env)}`;
}

/** Options as parseArgs takes them. */
const parserOptions = (options: Record<string, Option>) =>
  Object.fromEntries(Object.entries({ ...options, help: HELP }).map(([name, { type, short }]) => [name, { type, ...(short && { short }) }]));

/** Every command's options, so the command can be found wherever it sits among them. */
const ALL_OPTIONS = parserOptions(Object.assign({}, ...Object.values(COMMANDS).map((c) => c.options)));

/**
 * `--workers -1` as `--workers=-1`. parseArgs takes a value that starts with a
 * dash for an option and calls it ambiguous, which names neither the value nor
 * what is allowed; joined, the value reaches the option's own check, which does.
 */
function negativeValuesJoined(args: string[], options: Record<string, Option>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [...joined, ...args.slice(i)];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (name !== undefined && Object.hasOwn(options, name) && options[name]!.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** parseArgs' own messages, as one line that says where the options are listed. */
function usageErrorFrom(error: unknown, command: string | undefined): UsageError | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return undefined;
  const message = (error as Error).message;
  const where = command ? `ticketpulse ${command} --help` : 'ticketpulse --help';
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return new UsageError(`Unknown option "${option}"${command ? ` for ${command}` : ''}. Run ${where}.`);
  return new UsageError(`${message.split('\n')[0]!.replace(/\.$/, '')}. Run ${where}.`);
}

async function main(argv: string[]): Promise<void> {
  // First the command, wherever it sits (`ticketpulse --demo start` works), then its own options, strictly.
  const { tokens } = parseArgs({ args: argv, options: ALL_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const first = tokens.find((token) => token.kind === 'positional');
  const name = first?.kind === 'positional' ? first.value : undefined;
  const rest = first ? argv.filter((_, i) => i !== first.index) : argv;
  if (name === undefined) {
    const { values } = parseArgs({ args: rest, options: { help: HELP }, strict: true });
    if (values.help) return void console.log(usage());
    console.error(usage());
    process.exitCode = EXIT_USAGE;
    return;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`Unknown command "${name}". Run ticketpulse --help.`);
  const options = parserOptions(command.options);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: negativeValuesJoined(rest, command.options), options, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageErrorFrom(error, name) ?? error;
  }
  if (parsed.values.help) return void console.log(commandUsage(name, command));
  const missing = command.args[parsed.positionals.length];
  if (missing) throw new UsageError(`${name} needs ${missing}: ticketpulse ${[name, ...command.args].join(' ')}. Run ticketpulse ${name} --help.`);
  const extra = parsed.positionals[command.args.length];
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}" for ${name}. Run ticketpulse ${name} --help.`);
  await command.run(parsed.values, parsed.positionals);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Usage and configuration errors are one clear line, not a stack trace.
  const usageError = error instanceof UsageError ? error : usageErrorFrom(error, undefined);
  if (usageError) {
    console.error(`ticketpulse: ${usageError.message}`);
    process.exit(EXIT_USAGE);
  }
  const message = error instanceof ConfigError ? error.message : String((error as Error).stack ?? error);
  console.error(`ticketpulse: ${message}`);
  process.exit(1);
});
