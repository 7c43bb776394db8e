import type { HttpRequest, HttpResponse } from '@azure/functions';
import * as df from 'durable-functions';
import { names } from './names';

/** POST /api/orchestrators/{orchestratorName}/{instanceId?}: starts an orchestration from the body. */
df.app.client.http(names.httpStart, {
  route: 'orchestrators/{orchestratorName}/{instanceId?}',
  methods: ['POST'],
  handler: async (request: HttpRequest, client: df.DurableClient): Promise<HttpResponse> => {
    const text = await request.text();
    const input: unknown = text === '' ? undefined : JSON.parse(text);
    const instanceId = await client.startNew(request.params['orchestratorName'] ?? '', {
      instanceId: request.params['instanceId'],
      input,
    });
    return client.createCheckStatusResponse(request, instanceId);
  },
});
