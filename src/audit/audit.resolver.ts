// auditEvents: the organization's audit trail, newest first (admins and viewers).
import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination/page-cursor';
import { AuditEventConnection } from './audit-event.type';

@Resolver()
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: `Newest first; first is capped at ${MAX_PAGE_SIZE}.` })
  async auditEvents(
    @Arg('first', () => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('targetId', () => ID, { nullable: true }) targetId: string | null,
    @Arg('action', () => String, { nullable: true }) action: string | null,
    @Ctx() ctx: Context,
  ): Promise<AuditEventConnection> {
    return ctx.services.audit.events(await ctx.principal(), { first, after, targetId, action });
  }
}
