import { beforeAll, describe, expect, it } from 'vitest';
import { nagFindings, resourcesOf, type Synthesised, synthStage } from './synth.ts';

const only = (s: Synthesised, type: string) => {
  const all = Object.values(resourcesOf(s.template, type));
  expect(all, type).toHaveLength(1);
  return all[0]!;
};

describe('Review console sign-in (consoleUrl, authDomainPrefix)', () => {
  let withConsole: Synthesised;
  let without: Synthesised;
  beforeAll(() => {
    withConsole = synthStage('web', {
      consoleUrl: 'https://review.example.gov.cn/console/',
      authDomainPrefix: 'pb-web-review-gov',
    });
    without = synthStage('bare');
  });

  it('with the console URL: a managed-login domain and a public code-flow client returning there', () => {
    expect(only(withConsole, 'AWS::Cognito::UserPoolDomain').Properties.Domain).toBe('pb-web-review-gov');
    expect(only(withConsole, 'AWS::Cognito::UserPoolClient').Properties).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: ['https://review.example.gov.cn/console/'],
      LogoutURLs: ['https://review.example.gov.cn/console/'],
      SupportedIdentityProviders: ['COGNITO'],
    });
    expect(Object.keys(withConsole.template.findOutputs('ConsoleAuthDomain'))).toEqual(['ConsoleAuthDomain']);
  });

  it("with the console URL: the API answers that origin's browser requests, and no other", () => {
    expect(only(withConsole, 'AWS::ApiGatewayV2::Api').Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: ['https://review.example.gov.cn'],
      AllowHeaders: ['authorization', 'content-type'],
    });
    expect(nagFindings(withConsole.app)).toEqual([]);
  });

  it('without it: no domain, no OAuth flow at all (not even to https://example.com), no CORS', () => {
    expect(Object.keys(resourcesOf(without.template, 'AWS::Cognito::UserPoolDomain'))).toEqual([]);
    const client = only(without, 'AWS::Cognito::UserPoolClient').Properties;
    expect(client.AllowedOAuthFlowsUserPoolClient ?? false).toBe(false);
    expect(client.CallbackURLs).toBeUndefined();
    expect(client.AllowedOAuthFlows).toBeUndefined();
    expect(only(without, 'AWS::ApiGatewayV2::Api').Properties.CorsConfiguration).toBeUndefined();
  });
});
