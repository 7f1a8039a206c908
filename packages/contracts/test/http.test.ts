import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { Email, Money, Page, PageQuery, ProblemDetails, StrictObject } from '../src/index.js';

describe('ProblemDetails', () => {
  const check = Compile(ProblemDetails);
  const problem = {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: 'The body is not valid.',
    code: 'validation_failed',
    errors: [{ path: '/items/0/quantity', message: 'must be >= 1' }],
  };

  it('accepts an RFC 9457 problem, with or without field errors', () => {
    expect(check.Check(problem)).toBe(true);
    expect(check.Check({ ...problem, errors: undefined })).toBe(true);
  });

  it('refuses a problem without a code, a success status or a code clients cannot switch on', () => {
    expect(check.Check({ ...problem, code: undefined })).toBe(false);
    expect(check.Check({ ...problem, status: 200 })).toBe(false);
    expect(check.Check({ ...problem, code: 'Validation Failed' })).toBe(false);
  });
});

describe('StrictObject', () => {
  it('refuses unknown fields, as request bodies must', () => {
    const body = Compile(StrictObject({ quantity: Type.Integer() }));
    expect(body.Check({ quantity: 1 })).toBe(true);
    expect(body.Check({ quantity: 1, role: 'admin' })).toBe(false);
  });
});

describe('PageQuery and Page', () => {
  it('bounds the limit to 1..100', () => {
    const query = Compile(PageQuery);
    expect(query.Check({})).toBe(true);
    expect(query.Check({ limit: 100, cursor: 'abc' })).toBe(true);
    expect(query.Check({ limit: 0 })).toBe(false);
    expect(query.Check({ limit: 101 })).toBe(false);
  });

  it('shapes a page as items and a nullable next cursor', () => {
    const page = Compile(Page(Type.Object({ id: Type.String() })));
    expect(page.Check({ items: [{ id: 'a' }], nextCursor: null })).toBe(true);
    expect(page.Check({ items: [], nextCursor: 'abc' })).toBe(true);
    expect(page.Check({ items: [{ id: 1 }], nextCursor: null })).toBe(false);
    expect(page.Check({ items: [] })).toBe(false);
  });
});

describe('Money and Email', () => {
  it('takes non-negative integer cents up to the cap', () => {
    const money = Compile(Money);
    expect([0, 1999, 99_999_999].map((value) => money.Check(value))).toEqual([true, true, true]);
    expect([-1, 19.99, '1999', 100_000_000].map((value) => money.Check(value))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('takes an address and refuses anything else', () => {
    const email = Compile(Email);
    expect(email.Check('ada@example.com')).toBe(true);
    expect(email.Check('ada')).toBe(false);
  });
});
