// Deployment settings of the review console. On S3/CloudFront, point apiBase at the HTTP API
// (e.g. 'https://api.example.gov.cn/api'); the default is relative, for the same origin.
//
// Optional `auth`: reviewers sign in through the Cognito user pool's managed login (OAuth 2.0
// authorization code with PKCE) instead of pasting a token; the token form stays, for operators.
//   auth: {
//     domain: 'https://<prefix>.auth.<region>.amazoncognito.com', // stack output ConsoleAuthDomain
//     clientId: '<UserPoolClientId>', // stack output UserPoolClientId
//   },
// The app client's callback and sign-out URL must be this console's URL (e.g.
// 'https://review.example.gov.cn/'). Without `auth` the console asks for a token.
window.PB_CONFIG = {
  apiBase: 'api',
};
