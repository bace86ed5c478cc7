/**
 * Owner resolution after a valid OAuth token (http-and-operations.md §9.6): an already linked user, then a
 * pre-provisioned user linked by email, then optional auto-provisioning, else the raw claim value. When the
 * database cannot be asked the answer is "unavailable", never the raw claim: a linked user's requests must
 * not land in another owner while the fault lasts (audit L8).
 */
import type { Store } from '../store/index.js'
import { createUserIfNotExists, fillUserProfile, findUserByOAuth, linkOAuthIdentity } from '../store/queries/users.js'
import type { Log } from '../core/ports.js'
import type { OAuthIdentity } from './oauth.js'

export type Resolution = { readonly owner: string } | { readonly unavailable: true }

export async function resolveOAuthOwner(store: Store, identity: OAuthIdentity, autoProvision: boolean, log: Log): Promise<Resolution> {
  const { issuer, subject, email, name } = identity
  try {
    const owner = await store.system(async (tx) => {
      if (issuer !== undefined && subject !== undefined) {
        const linked = await findUserByOAuth(tx, issuer, subject)
        if (linked !== undefined) {
          if (email !== undefined || name !== undefined) {
            // Another user may already hold this canonical email: the profile stays as it is then.
            await tx.savepoint((sp) => fillUserProfile(sp, linked, email, name)).catch(() => undefined)
          }
          return linked
        }
        // Only an address the issuer says it verified claims a pre-provisioned account: one it says nothing
        // about may be any user's profile text (audit H2, the nOAuth pattern; risk R10).
        if (email !== undefined && identity.emailVerified === true) {
          const byEmail = await tx.savepoint((sp) => linkOAuthIdentity(sp, issuer, subject, email)).catch(() => undefined)
          if (byEmail !== undefined) return byEmail
        }
      }
      if (autoProvision) {
        await createUserIfNotExists(tx, { id: identity.owner, email, displayName: name, oauthSubject: subject, oauthIssuer: issuer })
      }
      return identity.owner
    })
    return { owner }
  } catch (error) {
    log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'OAuth user resolution failed; the request is answered 503')
    return { unavailable: true }
  }
}
