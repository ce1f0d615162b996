// CDK entry point (`cdk.json` runs it with tsx). The CLI sets CDK_OUTDIR, so the app synthesises on exit.
import { createApp } from './pb-app.ts';

createApp();
