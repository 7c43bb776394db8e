/** Entry of the sample app the functions-host tests load (one registered function per module). */
import './approval';
import './blob-created';
import './counter';
import './fan-out';
import './flaky';
import './gate';
import './http-start';
import './mixed';
import './parent';
import './poller';
import './slow-square';
import './square';
import './sweep-timer';
import './transfer';
