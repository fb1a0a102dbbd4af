import { IConstruct } from 'constructs';
import { isDuration, LOGIN_SERVICE_VAR } from '../manifest/rules';
import { fail } from './errors';
import type { JwtLoginProps, MeshLoginConstructProps } from './login';
import { checkLiteral } from './validation';

const JWT_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
const METHOD_NAME_RE = /^[A-Za-z0-9_-]{1,128}$/;
const CLAIM_RE = /^(\/[^\s/]+)+$|^[A-Za-z0-9_.:-]{1,256}$/;

/** What the login props come to once checked. */
export interface ValidLogin {
  readonly jwt: JwtLoginProps;
  readonly methodName: string;
  readonly claimName: string;
}

type Rule = (owner: IConstruct, jwt: JwtLoginProps) => void;

/** The JWT rules, each failing with the owner's path and the prop's name. */
const JWT_RULES: Rule[] = [
  (owner, jwt) => {
    checkLiteral(owner, 'login.jwt.boundIssuer', jwt.boundIssuer);
    if (typeof jwt.boundIssuer === 'string' && jwt.boundIssuer.trim() !== '') return;
    fail(owner, 'login.jwt.boundIssuer must be a non-empty string (the `iss` of the JWTs)');
  },
  (owner, jwt) => {
    if (!Array.isArray(jwt.boundAudiences) || jwt.boundAudiences.length === 0) {
      fail(owner, 'login.jwt.boundAudiences must list at least one audience: a JWT minted for another audience must not log in');
    }
    jwt.boundAudiences.forEach((a, i) => {
      checkLiteral(owner, `login.jwt.boundAudiences[${i}]`, a);
      if (typeof a !== 'string' || a.trim() === '') fail(owner, `login.jwt.boundAudiences[${i}] must be a non-empty string`);
    });
  },
  (owner, jwt) => {
    const keys = jwt.jwtValidationPubKeys;
    if ((keys === undefined) === (jwt.jwksUrl === undefined)) fail(owner, 'login.jwt needs exactly one of jwtValidationPubKeys and jwksUrl');
    if (keys === undefined) return;
    if (!Array.isArray(keys) || keys.length === 0) fail(owner, 'login.jwt.jwtValidationPubKeys must list at least one PEM key');
    keys.forEach((k, i) => {
      checkLiteral(owner, `login.jwt.jwtValidationPubKeys[${i}]`, k);
      if (!/-----BEGIN (PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----/.test(k)) {
        fail(owner, `login.jwt.jwtValidationPubKeys[${i}] must be a PEM public key or certificate ('-----BEGIN PUBLIC KEY-----'); `
          + 'never put a private key here');
      }
    });
  },
  (owner, jwt) => {
    if (jwt.jwksUrl === undefined) return;
    checkLiteral(owner, 'login.jwt.jwksUrl', jwt.jwksUrl);
    if (!/^https:\/\/[^\s/]+/.test(jwt.jwksUrl)) fail(owner, `login.jwt.jwksUrl '${jwt.jwksUrl}' must be an https:// URL`);
  },
  (owner, jwt) => {
    if (jwt.jwksCaCert === undefined) return;
    if (jwt.jwksUrl === undefined) fail(owner, 'login.jwt.jwksCaCert is only used with jwksUrl');
    checkLiteral(owner, 'login.jwt.jwksCaCert', jwt.jwksCaCert);
    if (!jwt.jwksCaCert.includes('-----BEGIN CERTIFICATE-----')) fail(owner, 'login.jwt.jwksCaCert must be a PEM certificate');
  },
  (owner, jwt) => {
    const algs = jwt.jwtSupportedAlgorithms;
    if (algs === undefined) return;
    if (!Array.isArray(algs) || algs.length === 0) {
      fail(owner, "login.jwt.jwtSupportedAlgorithms must list at least one algorithm (or be left out for Consul's default)");
    }
    algs.forEach((a, i) => {
      checkLiteral(owner, `login.jwt.jwtSupportedAlgorithms[${i}]`, a);
      if (!JWT_ALGS.includes(a)) fail(owner, `login.jwt.jwtSupportedAlgorithms[${i}] '${a}' is not one of ${JWT_ALGS.join(', ')}`);
    });
  },
  (owner, jwt) => {
    if (jwt.maxTokenTtl === undefined) return;
    checkLiteral(owner, 'login.jwt.maxTokenTtl', jwt.maxTokenTtl);
    if (!isDuration(jwt.maxTokenTtl)) fail(owner, `login.jwt.maxTokenTtl '${jwt.maxTokenTtl}' must be a duration such as '1h' or '30m'`);
  },
];

/** Checks a mesh's login props; errors name the mesh (`owner`, the construct the user made). */
export function validateLoginProps(owner: IConstruct, props: MeshLoginConstructProps): ValidLogin {
  const jwt = props.jwt;
  if (jwt === undefined || jwt === null) fail(owner, 'login.jwt is required');
  const methodName = checkLiteral(owner, 'login.methodName', props.methodName ?? `${props.meshName}-meshx-node`);
  if (!METHOD_NAME_RE.test(methodName)) fail(owner, `login.methodName '${methodName}' must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '-'`);
  for (const rule of JWT_RULES) rule(owner, jwt);
  const claimName = checkLiteral(owner, 'login.jwt.claimName', jwt.claimName ?? LOGIN_SERVICE_VAR);
  if (!CLAIM_RE.test(claimName)) fail(owner, `login.jwt.claimName '${claimName}' must be a claim name or a JSON pointer ('/a/b')`);
  return { jwt, methodName, claimName };
}
