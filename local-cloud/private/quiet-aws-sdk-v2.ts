// Side-effect module: import it before anything of cognito-local.
//
// cognito-local loads the AWS SDK for JavaScript v2, which prints an end-of-support notice on the next
// tick after it loads. That notice is about cognito-local's dependency, not about the kit, so it is
// switched off here: the flag must be set before the SDK's timer fires, hence a module of its own that
// is evaluated before cognito-local. Failing to find the SDK only means the notice may show.
import { createRequire } from 'node:module';

try {
  const requireFromKit = createRequire(import.meta.url);
  const requireFromCognitoLocal = createRequire(requireFromKit.resolve('cognito-local'));
  const notice = requireFromCognitoLocal('aws-sdk/lib/maintenance_mode_message') as { suppress?: boolean };
  notice.suppress = true;
} catch {
  // The notice is cosmetic; cognito-local works without this.
}
