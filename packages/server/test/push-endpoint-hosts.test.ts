import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { isAllowedEndpoint, parseEndpointHosts } from '../src/push/endpoint-hosts.ts';

describe('push endpoint allow-list (TICKETPULSE_PUSH_ENDPOINT_HOSTS)', () => {
  it('allows the major vendors by default: exact hosts, and *.domain for any subdomain but not the domain itself, on 443 only', () => {
    const { endpointHosts } = loadConfig({}).push;
    const allowed = (url: string) => isAllowedEndpoint(url, endpointHosts);
    expect(allowed('https://fcm.googleapis.com/fcm/send/abc')).toBe(true);
    expect(allowed('https://updates.push.services.mozilla.com/wpush/v2/abc')).toBe(true);
    expect(allowed('https://wns2-by3p.notify.windows.com/w/?token=abc')).toBe(true);
    expect(allowed('https://web.push.apple.com/abc')).toBe(true);
    expect(allowed('https://api.push.apple.com/abc')).toBe(true);
    expect(allowed('https://FCM.googleapis.com:443/x')).toBe(true);
    for (const refused of [
      'http://fcm.googleapis.com/fcm/send/abc',
      'https://fcm.googleapis.com:8443/x',
      'https://notify.windows.com/x',
      'https://fcm.googleapis.com.evil.example/x',
      'https://evilfcm.googleapis.com/x',
      'https://user@fcm.googleapis.com/x',
      'https://127.0.0.1/x',
      'https://169.254.169.254/latest/meta-data',
      'file:///etc/passwd',
      'nonsense',
    ]) {
      expect([refused, allowed(refused)]).toEqual([refused, false]);
    }
  });

  it('takes host:port entries (a test push service on loopback) and IPv6 literals with their port', () => {
    const hosts = parseEndpointHosts('127.0.0.1:8443, [::1]:9443')!;
    expect(isAllowedEndpoint('https://127.0.0.1:8443/push/1', hosts)).toBe(true);
    expect(isAllowedEndpoint('https://127.0.0.1/push/1', hosts)).toBe(false);
    expect(isAllowedEndpoint('https://[::1]:9443/push/1', hosts)).toBe(true);
  });

  it('refuses bad values at startup with a one-line error naming the variable', () => {
    for (const value of ['', ' , ', 'https://fcm.googleapis.com', 'fcm.googleapis.com/path', '*.', 'host:0', 'host:99999', '*.[::1]']) {
      const env = { TICKETPULSE_PUSH_ENDPOINT_HOSTS: value === '' ? ',' : value };
      expect(() => loadConfig(env), value).toThrow(ConfigError);
      expect(() => loadConfig(env), value).toThrow(/^Invalid configuration: TICKETPULSE_PUSH_ENDPOINT_HOSTS must list push-service hosts/);
    }
  });

  it('takes VAPID keys from configuration only as a valid pair, and a subject a push service can reach', () => {
    const keys = webpush.generateVAPIDKeys();
    expect(loadConfig({ TICKETPULSE_VAPID_PUBLIC_KEY: keys.publicKey, TICKETPULSE_VAPID_PRIVATE_KEY: keys.privateKey }).push.vapid).toEqual(keys);
    expect(() => loadConfig({ TICKETPULSE_VAPID_PUBLIC_KEY: keys.publicKey })).toThrow('set together or not at all');
    expect(() => loadConfig({ TICKETPULSE_VAPID_PUBLIC_KEY: 'short', TICKETPULSE_VAPID_PRIVATE_KEY: keys.privateKey })).toThrow(/TICKETPULSE_VAPID_PUBLIC_KEY must be/);
    expect(() => loadConfig({ TICKETPULSE_VAPID_SUBJECT: 'ops@example.com' })).toThrow(/TICKETPULSE_VAPID_SUBJECT must be a mailto: address or an https:\/\/ URL/);
    expect(loadConfig({ TICKETPULSE_VAPID_SUBJECT: 'https://tickets.example.com' }).push.subject).toBe('https://tickets.example.com');
  });
});
