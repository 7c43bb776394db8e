/** Entry of the sample app that mirrors the durable-functions SDK's reference orchestrations. */
import './activities';
import './entities';
import './orchestrations';
