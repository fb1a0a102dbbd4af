import { App } from 'cdktf';
import { ComposedStack } from './stack';

const app = new App();
new ComposedStack(app, 'composed');
app.synth();
