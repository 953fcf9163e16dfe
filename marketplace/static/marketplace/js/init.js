// Start the NHS.UK frontend components (header menu, skip link, details, error summary).
import { initAll } from "../../nhsuk/nhsuk-frontend.min.js";

initAll();
