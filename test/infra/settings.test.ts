import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readSettings } from '../../infra/settings.ts';

const settingsOf = (context: Record<string, string>) => readSettings(new App({ context }).node, {});

describe('Function: readSettings', () => {
  it('reads agency accounts from context, trimmed and each once; none by default', () => {
    expect(settingsOf({ agencyAccounts: ' 111122223333,444455556666 ,111122223333' }).agencyAccounts).toEqual(
      ['111122223333', '444455556666'],
    );
    expect(settingsOf({}).agencyAccounts).toEqual([]);
  });

  it('refuses an agency account that is not a 12-digit id, and a bad stage, with one line', () => {
    expect(() => settingsOf({ agencyAccounts: '1111-2222-3333' })).toThrow(
      /^agencyAccounts: '1111-2222-3333' is not a 12-digit AWS account id/,
    );
    expect(() => settingsOf({ stage: 'Prod' })).toThrow(/^stage 'Prod' must be lower-case/);
  });

  it('takes a console URL only with an https URL and a valid managed-login prefix', () => {
    expect(
      settingsOf({ consoleUrl: 'https://review.example.gov.cn', authDomainPrefix: 'pb-prod-review' }).console,
    ).toEqual({
      url: 'https://review.example.gov.cn/',
      origin: 'https://review.example.gov.cn',
      authDomainPrefix: 'pb-prod-review',
    });
    expect(() => settingsOf({ consoleUrl: 'http://review.example.gov.cn', authDomainPrefix: 'x' })).toThrow(
      /must be an https URL/,
    );
    expect(() => settingsOf({ consoleUrl: 'https://review.example.gov.cn' })).toThrow(
      /needs authDomainPrefix/,
    );
    expect(() => settingsOf({ consoleUrl: 'https://r.example', authDomainPrefix: 'my-cognito' })).toThrow(
      /without aws, amazon or cognito/,
    );
    expect(() => settingsOf({ authDomainPrefix: 'pb-x' })).toThrow(/needs consoleUrl/);
    // The console signs in with its directory as redirect_uri.
    expect(
      settingsOf({ consoleUrl: 'https://r.example.gov.cn/review/index.html', authDomainPrefix: 'pb-x' })
        .console?.url,
    ).toBe('https://r.example.gov.cn/review/');
  });

  it('hosts the console with hostConsole=true and a managed-login prefix, never with consoleUrl too', () => {
    expect(settingsOf({ hostConsole: 'true', authDomainPrefix: 'pb-x' })).toMatchObject({
      hostConsole: { authDomainPrefix: 'pb-x' },
    });
    expect(settingsOf({ hostConsole: 'true', authDomainPrefix: 'pb-x' }).console).toBeUndefined();
    expect(settingsOf({ hostConsole: 'false' }).hostConsole).toBeUndefined();
    expect(() => settingsOf({ hostConsole: 'true' })).toThrow(/^hostConsole needs authDomainPrefix/);
    expect(() =>
      settingsOf({ hostConsole: 'true', consoleUrl: 'https://r.example.gov.cn/', authDomainPrefix: 'pb-x' }),
    ).toThrow(/^hostConsole and consoleUrl: pick one/);
    expect(() => settingsOf({ hostConsole: 'yes', authDomainPrefix: 'pb-x' })).toThrow(
      /^hostConsole 'yes' must be true or false/,
    );
    expect(() => settingsOf({ hostConsole: 'true', authDomainPrefix: 'my-aws' })).toThrow(
      /^authDomainPrefix 'my-aws' must be/,
    );
  });

  it("serves the hosted console under the agency's own name only with a us-east-1 ACM certificate for it", () => {
    const cert = 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
    const hosted = { hostConsole: 'true', authDomainPrefix: 'pb-x' };
    expect(
      settingsOf({ ...hosted, consoleDomain: 'review.example.gov.cn', consoleCertificateArn: cert })
        .hostConsole,
    ).toEqual({ authDomainPrefix: 'pb-x', domain: { name: 'review.example.gov.cn', certificateArn: cert } });
    expect(() => settingsOf({ ...hosted, consoleDomain: 'review.example.gov.cn' })).toThrow(/give both/);
    expect(() => settingsOf({ consoleDomain: 'review.example.gov.cn', consoleCertificateArn: cert })).toThrow(
      /go with -c hostConsole=true/,
    );
    expect(() =>
      settingsOf({ ...hosted, consoleDomain: 'Review.Example', consoleCertificateArn: cert }),
    ).toThrow(/is not a lower-case host name/);
    expect(() =>
      settingsOf({
        ...hosted,
        consoleDomain: 'review.example.gov.cn',
        consoleCertificateArn: cert.replace('us-east-1', 'cn-north-1'),
      }),
    ).toThrow(/must be an ACM certificate in us-east-1/);
  });
});
