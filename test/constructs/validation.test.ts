import { Fn, TerraformVariable } from 'cdktf';
import { checkLiteral, checkPort } from '../../lib/constructs/validation';
import { newStack } from '../util';

describe('construct prop validation', () => {
  const stack = newStack();

  test('ports: undefined is 0 (pick at boot); integers 0-65535; no tokens', () => {
    expect(checkPort(stack, 'p', undefined)).toBe(0);
    expect(checkPort(stack, 'p', 9100)).toBe(9100);
    expect(() => checkPort(stack, 'p', 70000)).toThrow('[test] p must be an integer from 1 to 65535 (or 0 to pick one at boot), got 70000');
    const v = new TerraformVariable(stack, 'port', { type: 'number' });
    expect(() => checkPort(stack, 'p', v.numberValue)).toThrow('[test] p must be a literal number');
  });

  test('strings: literal, no Terraform template syntax', () => {
    expect(checkLiteral(stack, 's', 'plain')).toBe('plain');
    expect(() => checkLiteral(stack, 's', 'a${b}')).toThrow("[test] s must not contain Terraform template syntax");
    expect(() => checkLiteral(stack, 's', Fn.lower('X'))).toThrow('[test] s must be a literal string, not a Terraform reference');
    // Not a string: left to the caller's own type check.
    expect(checkLiteral(stack, 's', 42)).toBe(42);
  });
});
