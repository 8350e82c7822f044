import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { defineRoute, type AnyRoute } from '../../shared/http/route.js';
import { buildRouteTable } from '../../shared/http/route-table.js';
import { parseRouteTemplate } from '../../shared/http/route-template.js';

const route = (name: string, path: string, methods: AnyRoute['methods'] = ['GET']): AnyRoute =>
  defineRoute({
    name,
    methods,
    route: path,
    authLevel: 'anonymous',
    summary: name,
    tags: [],
    request: { params: Type.Object({}) },
    responses: {},
    handler: async () => ({ status: 204 }),
  });

describe('route templates', () => {
  it('matches literals case-insensitively and ignores one trailing slash', () => {
    const template = parseRouteTemplate('regions');
    expect(template.match('/regions')).toEqual({});
    expect(template.match('/Regions/')).toEqual({});
    expect(template.match('/regions/eu')).toBeUndefined();
  });

  it('captures and decodes parameters', () => {
    expect(parseRouteTemplate('tenants/{slug}/region').match('/tenants/a%20b/region')).toEqual({ slug: 'a b' });
    expect(parseRouteTemplate('tenants/{slug}/region').match('/tenants//region')).toBeUndefined();
    expect(parseRouteTemplate('tenants/{slug}/region').match('/tenants/%E0%A4%A/region')).toBeUndefined();
  });

  it('gives the catch-all the rest of the path', () => {
    expect(parseRouteTemplate('{*path}').match('/a/b/c')).toEqual({ path: 'a/b/c' });
    expect(parseRouteTemplate('{*path}').match('/')).toEqual({ path: '' });
  });

  it('rejects templates the app does not support', () => {
    expect(() => parseRouteTemplate('a/{*rest}/b')).toThrow(/last segment/);
    expect(() => parseRouteTemplate('a/{id:int}')).toThrow(/unsupported segment/);
  });
});

describe('route table', () => {
  const table = buildRouteTable([
    route('fallback', '{*path}', ['GET', 'POST', 'DELETE']),
    route('one', 'items/{id}'),
    route('special', 'items/special', ['GET', 'DELETE']),
    route('list', 'items', ['GET', 'POST']),
  ]);

  it('prefers literal segments, then parameters, then the catch-all', () => {
    expect(table.find('GET', '/items/special')?.route.name).toBe('special');
    expect(table.find('GET', '/items/42')?.route.name).toBe('one');
    expect(table.find('GET', '/elsewhere')?.route.name).toBe('fallback');
  });

  it('falls through to the catch-all on a method the route lacks', () => {
    expect(table.find('DELETE', '/items/42')?.route.name).toBe('fallback');
    expect(table.allowedMethods('/items/42')).toEqual(['GET', 'HEAD']);
    expect(table.allowedMethods('/items/special')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(table.allowedMethods('/nothing')).toEqual([]);
  });

  it('serves HEAD wherever GET is served', () => {
    expect(table.find('HEAD', '/items/42')?.route.name).toBe('one');
    expect(table.find('HEAD', '/elsewhere')?.route.name).toBe('fallback');
  });

  it('refuses two routes for one method and shape, and duplicate names', () => {
    expect(() => buildRouteTable([route('a', 'x/{id}'), route('b', 'x/{other}')])).toThrow(/two routes serve GET/);
    expect(() => buildRouteTable([route('a', 'x'), route('a', 'y')])).toThrow(/two routes are named/);
  });
});
