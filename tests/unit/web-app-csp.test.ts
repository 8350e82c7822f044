import { describe, expect, it } from 'vitest';
import { GRAPH_UPLOAD_ORIGIN, uploadOrigins, webAppCsp } from '../../tools/local-web.js';

/** The web app's connect-src follows configuration: where the browser PUTs documents (docs/web-app.md#printing-a-file-and-onedrive). */
describe('the web app policy’s upload origins', () => {
  it('allows the local stand-in’s origin, Microsoft’s SharePoint hosts with a real registration, and nothing when OneDrive is off', () => {
    expect(uploadOrigins({}, 'http://127.0.0.1:7072/v1.0')).toEqual(['http://127.0.0.1:7072']);
    expect(uploadOrigins({ clientId: 'app' }, 'https://graph.microsoft.com')).toEqual(['https://*.sharepoint.com']);
    expect(uploadOrigins({ disabledBecause: 'ONEDRIVE_TOKEN_KEYS is not set' })).toEqual([]);
    expect(GRAPH_UPLOAD_ORIGIN).toBe('https://*.sharepoint.com');
  });

  it('puts them after self in connect-src and changes nothing else', () => {
    expect(webAppCsp([GRAPH_UPLOAD_ORIGIN])).toContain("connect-src 'self' https://*.sharepoint.com; form-action 'self'");
    expect(webAppCsp()).toContain("connect-src 'self'; form-action 'self'");
    expect(webAppCsp([GRAPH_UPLOAD_ORIGIN]).replace(' https://*.sharepoint.com', '')).toBe(webAppCsp());
  });
});
