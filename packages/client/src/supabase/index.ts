/** `@ticketpulse/client/supabase`: its own entry, so apps that do not use Supabase do not ship it. */
export { SupabaseTransport } from './supabase-transport.ts';
