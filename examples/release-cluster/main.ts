import { App } from 'cdktf';
import { ReleaseClusterStack } from './stack';

const app = new App();
new ReleaseClusterStack(app, 'release-cluster');
app.synth();
