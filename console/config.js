// Deployment settings of the review console. On S3/CloudFront, point apiBase at the HTTP API
// (e.g. 'https://api.example.gov.cn/api'); the default is relative, for the same origin.
window.PB_CONFIG = {
  apiBase: 'api',
};
