import { generateKeyPairSync } from 'node:crypto';
import { Fn } from 'cdktf';
import { validateLoginProps } from '../../lib/constructs/validate-login-props';
import { newStack } from '../util';

const PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const JWT = { boundIssuer: 'https://issuer.test', boundAudiences: ['meshx'], jwtValidationPubKeys: [PEM] };

describe('validateLoginProps', () => {
  test('defaults: method name from the mesh, the meshx_service claim', () => {
    const v = validateLoginProps(newStack(), { meshName: 'shop', jwt: JWT });
    expect([v.methodName, v.claimName, v.jwt]).toEqual(['shop-meshx-node', 'meshx_service', JWT]);
  });

  test.each([
    [{ jwt: undefined as any }, 'login.jwt is required'],
    [{ jwt: { ...JWT, boundIssuer: Fn.lower('X') } }, 'login.jwt.boundIssuer must be a literal string, not a Terraform reference'],
    [{ jwt: { ...JWT, boundAudiences: [] } }, 'login.jwt.boundAudiences must list at least one audience'],
    [{ jwt: { ...JWT, jwksUrl: 'https://k.test/jwks' } }, 'login.jwt needs exactly one of jwtValidationPubKeys and jwksUrl'],
    [{ jwt: { ...JWT, jwtSupportedAlgorithms: ['none'] } }, "login.jwt.jwtSupportedAlgorithms[0] 'none' is not one of"],
    [{ jwt: { ...JWT, maxTokenTtl: '${var.ttl}' } }, 'login.jwt.maxTokenTtl must not contain Terraform template syntax'],
    [{ jwt: JWT, methodName: 'a b' }, "login.methodName 'a b' must be 1 to 128 characters"],
  ])('fails naming the owner and the prop: %#', (props, message) => {
    expect(() => validateLoginProps(newStack(), { meshName: 'shop', ...props })).toThrow(`[test] ${message}`);
  });
});
