/**
 * The generic child definition is the column whitelist: table and column names reach SQL text, so
 * a definition with anything but a plain identifier must fail when the module loads, and request
 * schemas must come out closed (unknown fields refused) with PATCH needing at least one field.
 */
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { defineChildResource } from './resource.js';
import { CHILD_RESOURCES, experiences, projects } from './schema.js';

const base = { name: 'Thing', table: 'things', path: 'things' };

describe('defineChildResource', () => {
  it.each([
    ['table', { ...base, table: 'things; drop table users', fields: {} }],
    ['quoted table', { ...base, table: 'th"ings', fields: {} }],
    ['column', { ...base, fields: { title: { column: 'title) values (1); --', schema: Type.String() } } }],
    ['field name', { ...base, fields: { 'ti tle': { column: 'title', schema: Type.String() } } }],
    ['reserved field', { ...base, fields: { portfolioId: { column: 'portfolio_id', schema: Type.String() } } }],
    ['path', { ...base, path: '../admin', fields: {} }],
  ])('refuses a bad %s', (_what, input) => {
    expect(() => defineChildResource(input)).toThrow();
  });

  it('derives closed create/patch schemas and a full response schema', () => {
    const { create, patch, item, publicItem } = projects.schemas;
    expect(create).toMatchObject({ additionalProperties: false });
    expect(patch).toMatchObject({ additionalProperties: false, minProperties: 1 });
    expect(create.required).toEqual(['title']);
    expect(Object.keys(item.properties)).toEqual(
      expect.arrayContaining(['id', 'portfolioId', 'title', 'repositoryUrl', 'date', 'skills', 'position', 'translations', 'createdAt', 'updatedAt']),
    );
    expect(Object.keys(publicItem.properties)).not.toContain('translations');
    expect(projects.translatable).toEqual(['title', 'description']);
    expect(experiences.translatable).toEqual(['title', 'organization', 'description']);
  });

  it('covers the five kinds with their tables', () => {
    expect(CHILD_RESOURCES.map((r) => r.table)).toEqual(['projects', 'sections', 'experiences', 'skills', 'links']);
  });
});
