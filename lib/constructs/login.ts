import { AclAuthMethod } from '@cdktf/provider-consul/lib/acl-auth-method';
import { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { LOGIN_SERVICE_VAR } from '../manifest/rules';
import { validateLoginProps } from './validate-login-props';

/**
 * The JWT issuer a mesh's nodes log in with (a Consul ACL auth method of type `jwt`, Consul 1.8+).
 *
 * The issuer must guarantee three things, because Consul trusts a validly signed JWT completely:
 * the claim named by `claimName` names the Consul service of the node the JWT is handed to (and
 * is set by the issuer, never by the workload); the audience is one of `boundAudiences` and is
 * used for nothing else; and the JWT expires (`exp`), so a stolen one stops working.
 */
export interface JwtLoginProps {
  /** The `iss` every JWT must carry, e.g. `https://kubernetes.default.svc.cluster.local`. */
  readonly boundIssuer: string;
  /** Accepted `aud` values; a JWT must carry at least one of them. At least one is required. */
  readonly boundAudiences: string[];
  /**
   * PEM public keys (or certificates) that may sign the JWTs. Exactly one of this and `jwksUrl`.
   * @default - none: `jwksUrl` must be set
   */
  readonly jwtValidationPubKeys?: string[];
  /**
   * An `https://` JWKS endpoint of the issuer. Exactly one of this and `jwtValidationPubKeys`.
   * @default - none: `jwtValidationPubKeys` must be set
   */
  readonly jwksUrl?: string;
  /**
   * PEM CA certificate for the TLS connection to `jwksUrl`.
   * @default - the Consul servers' system roots
   */
  readonly jwksCaCert?: string;
  /**
   * The claim naming the node's Consul service: a top-level claim name, or a JSON pointer such as
   * `/kubernetes.io/serviceaccount/name` for a nested claim.
   * @default "meshx_service"
   */
  readonly claimName?: string;
  /**
   * Signature algorithms a JWT may use (Consul's `JWTSupportedAlgs`): RS256, RS384, RS512, ES256,
   * ES384, ES512, PS256, PS384, PS512 or EdDSA.
   * @default - Consul's default (with `jwtValidationPubKeys`, Consul 1.8.7 accepts RS256 and ES256 JWTs)
   */
  readonly jwtSupportedAlgorithms?: string[];
  /**
   * Lifetime cap of the tokens made by a login (a duration such as `1h`). A helper that is killed
   * without logging out leaves its token until then; the helper logs in again when its token expires.
   * @default - no cap: the token lives until the helper logs out
   */
  readonly maxTokenTtl?: string;
}

/**
 * How the mesh's nodes get their ACL tokens without a human: by logging in to a Consul auth method.
 */
export interface MeshLoginProps {
  /** Log in with a JWT. */
  readonly jwt: JwtLoginProps;
  /**
   * Name of the auth method: 1 to 128 characters of A-Z, a-z, 0-9, '_', '-'.
   * @default - `<mesh name>-meshx-node`
   */
  readonly methodName?: string;
}

/**
 * Properties of a {@link MeshLogin}.
 */
export interface MeshLoginConstructProps extends MeshLoginProps {
  /** Name of the mesh, for the default method name and the description. */
  readonly meshName: string;
  /**
   * Consul provider of the resource.
   * @default - the stack's default Consul provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * A Consul ACL auth method of type `jwt` for one mesh. Each node's {@link NodeAcl} binds a JWT whose
 * service claim names that node to the node's role (its service identity plus read on its own
 * manifest key), and to nothing else.
 */
export class MeshLogin extends Construct {
  /** The auth method. */
  public readonly authMethod: AclAuthMethod;
  /** Name of the auth method (what `meshx-node run --login-method` takes). */
  public readonly methodName: string;

  constructor(scope: Construct, id: string, props: MeshLoginConstructProps) {
    super(scope, id);
    // Errors name the mesh (the construct the user made), not this child.
    const { jwt, methodName, claimName } = validateLoginProps(scope, props);
    const keys = jwt.jwtValidationPubKeys;
    const algs = jwt.jwtSupportedAlgorithms;

    const config: Record<string, unknown> = {
      BoundIssuer: jwt.boundIssuer,
      BoundAudiences: [...jwt.boundAudiences],
      ClaimMappings: { [claimName]: LOGIN_SERVICE_VAR },
    };
    if (keys !== undefined) config.JWTValidationPubKeys = [...keys];
    if (jwt.jwksUrl !== undefined) config.JWKSURL = jwt.jwksUrl;
    if (jwt.jwksCaCert !== undefined) config.JWKSCACert = jwt.jwksCaCert;
    if (algs !== undefined) config.JWTSupportedAlgs = [...algs];

    this.methodName = methodName;
    this.authMethod = new AclAuthMethod(this, 'AuthMethod', {
      name: methodName,
      type: 'jwt',
      displayName: `meshx-node ${props.meshName}`,
      description: `meshx-node: nodes of mesh '${props.meshName}' log in with a JWT whose '${claimName}' claim names their service`,
      configJson: JSON.stringify(config),
      maxTokenTtl: jwt.maxTokenTtl,
      provider: props.provider,
    });
  }
}
