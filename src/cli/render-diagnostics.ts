// Lives in model/ so that forge previews render diagnostics the way the CLI does without importing cli/.
export { countLine, renderDiagnostic } from '../model/render-diagnostics.js';
