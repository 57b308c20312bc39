/** Events of a tenant's users. user.created is emitted by the control plane since the foundation. */
import { z } from 'zod';
import { DataVersions } from '../versions.js';
import { defineEvent } from './define.js';
import { Id, UserRole } from '../fields.js';

const UserId = Id.meta({ description: 'The user (the Tenant Manager\'s user id).' });

const Session = z.object({
  userId: UserId,
  sessionId: z
    .string()
    .min(1)
    .max(128)
    .meta({ description: 'Opaque id of the sign-in session; user.login and user.logout of one session carry the same one.' }),
});

export const USER_EVENTS = {
  'user.created': defineEvent({
    description: 'A user was added to a tenant (the first one, a tenant-admin, at registration).',
    producer: 'control-plane/tenant-manager',
    versions: DataVersions.of(
      z.object({
        userId: UserId,
        email: z.email().meta({ description: "The user's email address, in lower case." }),
        role: UserRole.meta({ description: "The user's role in the tenant." }),
      }),
      { userId: 'c6f3f1a4-1d2e-4b8a-9a57-3f0e6a1b2c3d', email: 'ada@acme.example', role: 'tenant-admin' },
    ),
  }),
  'user.login': defineEvent({
    description: 'A user signed in: a session starts.',
    producer: 'control-plane/auth',
    versions: DataVersions.of(Session, { userId: 'c6f3f1a4-1d2e-4b8a-9a57-3f0e6a1b2c3d', sessionId: 'a1d0c6e8-3b7f-4c1e-9d2a-5e4f3a2b1c0d' }),
  }),
  'user.logout': defineEvent({
    description: "A user signed out or the session expired: the session ends.",
    producer: 'control-plane/auth',
    versions: DataVersions.of(Session, { userId: 'c6f3f1a4-1d2e-4b8a-9a57-3f0e6a1b2c3d', sessionId: 'a1d0c6e8-3b7f-4c1e-9d2a-5e4f3a2b1c0d' }),
  }),
};
