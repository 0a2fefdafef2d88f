#!/bin/sh
# boilerplate-strip: real pages against their pinned text, the options, the in-process path of
# warc-extract (--text) giving the very same records, and bad pages.
. "${SRCDIR:-.}/tests/lib.sh"

boilerplate-strip "$DATA/html/aeb-4.jsonl.gz" |
	jq -r '"== " + .id + "\n" + .metadata.boilerplate.title + "\n" + .text' >got
test_cmp "$DATA/golden/aeb-4.text.expect" got "four real pages: the pinned main text"
boilerplate-strip "$DATA/html/aeb-4.jsonl.gz" >out.jsonl
is "$(jq -r 'has("html")' out.jsonl | sort -u)" "false" "html removed"
is "$(jq -r '.metadata.boilerplate | (.html_bytes > 10000) and (.text_chars > 100)' out.jsonl | sort -u)" "true" \
	"metadata.boilerplate has html_bytes and text_chars"
is "$(jq -r 'select(.id | startswith("70cb2d5b")) | .text' out.jsonl | grep -c "Taylor Swift")" 6 \
	"the BBC article's paragraphs are there"
# pages a first pass finds too little on (the cascade): each kind keeps its text
boilerplate-strip "$DATA/html/readability-6.jsonl.gz" >r6.jsonl
jq -r '"== " + .id + "\n" + .metadata.boilerplate.title + "\n" + .text' r6.jsonl >got
test_cmp "$DATA/golden/readability-6.text.expect" got "six pages of Readability's tests: the pinned main text"
r6() { jq -r --arg id "readability:$1" 'select(.id == $id) | .text' r6.jsonl; }
is "$(jq -r '.metadata.boilerplate.text_chars > 500' r6.jsonl | sort -u)" "true" "every page keeps its text"
like "$(r6 royal-road)" "competition for the showers" "paragraphs that are <div>s of bare text: the story is kept"
ok "$([ "$(r6 nytimes-5 | wc -c)" -gt 2000 ] && echo 0 || echo 1)" "a section front of teasers keeps its listing"
like "$(r6 yahoo-2)" "broke up in the atmosphere over Siberia" "atomic-CSS classes are no markers: the article is kept"
like "$(r6 mercurial)" "with three local repositories, although in the real world" \
	"a section whose id is a heading's anchor (sharing-with-...) is kept"
is "$(r6 missing-paragraphs | grep -c '^Lorem ipsum dolor sit amet, consetetur sadipscing elitr, sed diam nonumy eirmod tempor invidunt ut labore et dolore magna aliquyam erat, sed diam voluptua. At vero')" 3 \
	"a long paragraph the page repeats is kept as often as it is there"
like "$(r6 qq)" "TNW中文站 10月14日报道" "a short Chinese page: its first paragraphs are kept"
# pages of the kinds a first pass got wrong (tests/data/html/README.md), one rule each
boilerplate-strip "$DATA/html/kinds.jsonl.gz" >kinds.jsonl
jq -r '"== " + .id + "\n" + .metadata.boilerplate.title + "\n" + .text' kinds.jsonl >got
test_cmp "$DATA/golden/kinds.text.expect" got "pages of each failure kind: the pinned main text"
kind() { jq -r --arg id "$1" 'select(.id == $id) | .text' kinds.jsonl; }
like "$(kind cnn-div-paragraphs | head -1)" '^\(CNN\)President Donald Trump, according to the White House' \
	"an article whose paragraphs are <div>s side by side: it is the main content"
is "$(kind cnn-div-paragraphs | grep -c 'JUST WATCHED\|More Videos')" 0 \
	"and the video carousel beside it is left out"
like "$(kind pixnet-one-paragraph | head -1)" '^一波波接續性低溫寒流報到' \
	"one paragraph read as prose, the rest of the article beside it: the article is kept whole"
is "$(kind pixnet-one-paragraph | grep -c '相關文章\|上一篇文章與下一篇文章')" 0 \
	"and the related posts and the previous and next links are left out"
is "$(kind wikipedia-table | grep -c "^Repeat Performance$(printf '\t')1947$(printf '\t')A woman who shot her husband")" 1 \
	"a list that is a table: the table is the main content, rows written whole (the title cells too)"
is "$(kind yahoo-linked-headings | grep -c '^“Rez Infinite” (\$30)$\|^“Thumper” (\$20)$')" 2 \
	"a heading that is all link over a paragraph of prose (a list of games, each reviewed) is kept"
# a page of link lists between paragraphs: the first pass widens a paragraph to the article,
# and the cascade's second pass still runs and keeps the lists
warc-extract --text "$DATA/warc/dolma_warc_sample-0000.warc.gz" |
	jq -r 'select(.url | endswith("/2018/11/19/data-science-crash-course.html")) | .text' >crash
like "$(cat crash)" "SVM Tutorial by Zoya Gavrilov" "a resources page keeps its lists of links"
# embedded posts between an article's paragraphs (as nj.com writes them) are no listing of teasers
{ printf '{"id":"tw","html":"<html><body><article>'
  for i in 1 2 3; do
	printf '<p>Paragraph %s of the story, which goes on in plain sentences about the campaign and the state.</p>' "$i"
	printf '<div class=\"social-media-embed\"><blockquote class=\"twitter-tweet\"><p>Post %s: yes this is real and yes the state spent half a million on it <a href=\"https://t.co/x\">https://t.co/x</a></p>- A Reader (@reader%s) <a href=\"https://twitter.com/r/status/%s\">November 18, 2019</a></blockquote></div>' "$i" "$i" "$i"
  done
  printf '<p>The last paragraph of the story, in plain sentences, as the others before it were.</p></article></body></html>"}\n'; } >tw.jsonl
is "$(boilerplate-strip tw.jsonl | jq -r .text | grep -c '^Post [123]: yes this is real')" 3 \
	"posts embedded between paragraphs are kept"
# an article written as runs of text in <span>s and <br>s around one <p> (as Dragnet's blogspot
# and WordPress pages have it; no page of a set that may be copied here has it): the runs
# between the post's blocks read as a paragraph, and the post is the main content, not the <p>
para='<p>The new rules take effect in the spring, after a year in which the council heard from residents, shop owners and the bus company about where the lanes should go. The shop owners had asked for the loading bays to stay, and they will, at both ends of the street; the bus company wanted its stops moved closer together, and they will not be.</p>'
run1='The plan was first put forward two years ago, when the city asked for ideas on how to make the high street safer for cyclists and quicker for buses.<br>Most of the early proposals were turned down because they took too much room from the pavements.'
run2='This time the lanes will run on the east side only, and the parking on that side will move to the side streets.<br>The work is to take eight weeks, and the street will stay open to buses while it goes on.'
printf '{"id":"inline","html":"<html><body><div class=\\"post\\"><h3>Lanes for the high street</h3><div class=\\"post-body\\"><span>%s</span><br><br>%s<span>%s</span></div></div></body></html>"}\n' \
	"$run1" "$para" "$run2" >inline.jsonl
like "$(boilerplate-strip inline.jsonl | jq -r .text | tr "\n" " ")" "^The plan was first put forward.*The new rules take effect.*while it goes on" \
	"text and <br>s around one paragraph: the runs of text are kept with it"
# Common Crawl's FAQ: every answer is in a div its class marks as boilerplate (an accordion)
warc-extract --text "$DATA/warc/dolma_warc_sample-0001.warc.gz" |
	jq -r 'select(.url == "https://commoncrawl.org/faq") | .text' >faq
like "$(cat faq)" "Common Crawl is a 501\\(c\\)\\(3\\) non-profit organization" \
	"where the markers took the page's prose and left next to nothing, the second pass keeps it"
# an article a class marker would take with its wrapper (a share bar around it, as Dragnet's
# infoworld pages have it; a byline's span left open around a blog post): the declared article
# body stays, and where the passes keep under 250 characters a third does without markers
story='<p>The council voted on Tuesday to keep the old library open for another year, after residents filled the hall to speak for it.</p><p>Its budget will come from the parks fund, which the mayor said could spare the money without cutting any of the summer programmes.</p><p>A new building is still planned, but the vote means the work will not start before the spring of next year at the earliest.</p>'
archive='<ul class=\"archive\">'
for i in $(seq 10 89); do archive="$archive<li><a href=\\\"/m$i\\\">Archive for the month $i</a> ($i)</li>"; done
archive="$archive</ul>"
printf '{"id":"share","html":"<html><body><div class=\\"share_wrapper\\"><a href=\\"/s\\">Share</a><div itemprop=\\"articleBody\\">%s</div></div>%s</body></html>"}\n' \
	"$story" "$archive" >share.jsonl
like "$(boilerplate-strip share.jsonl | jq -r .text | tr "\n" " ")" "^The council voted on Tuesday.*the spring of next year" \
	"itemprop=articleBody: a share marker on its wrapper does not take the article"
printf '{"id":"byline","html":"<html><body><div class=\\"post-body\\"><span class=\\"byline-author\\">Posted by A. Writer<br>%s</span></div>%s</body></html>"}\n' \
	"$(echo "$story" | sed 's,<p>,<span>,g; s,</p>,</span><br><br>,g')" "$archive" >byline.jsonl
like "$(boilerplate-strip byline.jsonl | jq -r .text | tr "\n" " ")" "Posted by A. Writer.*The council voted on Tuesday.*the spring of next year" \
	"an article inside a byline's span: the third pass, without markers, keeps it"
is "$(boilerplate-strip --precision byline.jsonl | jq -r .text | grep -c 'The council voted')" 0 \
	"--precision: no third pass (what the markers take stays out)"
# a blog theme's post (as Blogger writes them; Dragnet's blogspot pages have it, and no page of a
# set that may be copied here): the post's paragraphs are <div>s of <span>s, one of them alone,
# inside hAtom's entry-content, inside a "date-outer" a weak marker names; beside it, an author's
# profile longer than the post, an archive, and a Twitter timeline whose tweets are entry-content too
post='<div style=\"text-align: justify;\"><span>The council met on Tuesday to talk about the budget for the coming year, and the meeting went on until late in the evening.</span><br></div><br><div style=\"text-align: justify;\"><span>Residents asked about the roads, the library and the park by the river. The mayor said that the roads would come first, and that the library would keep its hours.</span></div><p>The budget itself is much like that of last year: a little more for the buses, a little less for the parks, and the same for the schools. The council will vote on it next month, after a second meeting in the hall by the market, where anyone who lives in the city may speak for three minutes. The minutes of the first meeting are on the pages of the city, with the figures the mayor showed.</p>'
profile='I have written about the city and its council for twenty years, for the weekly paper and then for this blog. Before that I taught history at the school by the river, where I still coach the rowing team on Saturdays. I like long walks, old maps, strong coffee, trains, second-hand bookshops and the sea in winter. My work has been published in the regional papers, in two books about the history of the valley and in many letters to the editor that nobody asked for. When I am not writing, I am usually on a train to somewhere I have not been, with a notebook, a camera that is older than my children and a bag of apples. I answer every letter, even the angry ones, though it may take me a while.'
tweets=''
for i in 1 2 3 4 5 6; do tweets="$tweets<li><span class=\\\"entry-content\\\">Tweet $i: a new post on the budget meeting, with what the mayor said about the roads. Read it here.</span></li>"; done
printf '{"id":"blog","html":"<html><body><div id=\\"outer-wrapper\\"><div id=\\"main-wrapper\\"><div class=\\"blog-posts hfeed\\"><div class=\\"date-outer\\"><h2 class=\\"date-header\\"><span>Saturday, October 20, 2012</span></h2><div class=\\"date-posts\\"><div class=\\"post-outer\\"><div class=\\"post hentry\\"><h3 class=\\"post-title entry-title\\"><a href=\\"/2012/10/budget.html\\">The budget meeting</a></h3><div class=\\"post-body entry-content\\">%s</div></div></div></div></div></div></div><div id=\\"sidebar-wrapper\\"><div class=\\"widget Profile\\"><div class=\\"widget-content\\"><dl class=\\"profile-datablock\\"><dd class=\\"profile-textblock\\">%s</dd></dl></div></div><div class=\\"widget-twitter\\"><ul>%s</ul></div>%s</div></div></body></html>"}\n' \
	"$post" "$profile" "$tweets" "$archive" >blog.jsonl
boilerplate-strip blog.jsonl | jq -r .text >blog
like "$(tr "\n" " " <blog)" "^The council met on Tuesday.*the library would keep its hours\\..*the figures the mayor showed\\. *\$" \
	"a blog post in entry-content: its paragraphs, the one alone too, are the main content"
is "$(grep -c 'twenty years\|Tweet [0-9]' blog)" 0 "and the author's profile and the tweets (entry-content without prose) are left out"
# a short post the page declares (entry-content) and a long thread of comments below it: the
# post is the main content in every pass of the cascade, not the thread
comments=''
for i in 1 2 3 4 5 6 7 8; do comments="$comments<li class=\\\"comment\\\"><p>Comment $i: what a lovely picture, the colour of the coat is wonderful and she looks just like a film star of the old days.</p></li>"; done
printf '{"id":"short","html":"<html><body><div id=\\"content\\"><div class=\\"post\\"><h2>At the show</h2><div class=\\"entry-content\\"><p>She looks as if she walked out of an old magazine, in a bright red coat and a belt.</p></div></div><div id=\\"comments\\"><ol>%s</ol></div></div></body></html>"}\n' \
	"$comments" >shortpost.jsonl
is "$(boilerplate-strip shortpost.jsonl | jq -r .text)" "She looks as if she walked out of an old magazine, in a bright red coat and a belt." \
	"a short declared post over a long thread of comments: the post alone"
# the one <article> of a page: its text is the main content, a lone <div> of prose in it too
printf '{"id":"one-article","html":"<html><body><article><h1>Lorem</h1><div><p>The first part of the story is a paragraph of plain sentences, long enough to read as prose on its own.</p><p>A second paragraph follows it, and tells what happened next, in the same plain words: the fountain in the square had stopped on the first day of the year, the council had met about it three times, and each time it had decided to wait for the spring, when the water company would have men to spare and the ground would be soft enough to dig.</p></div><h2>After</h2><div>The last part of the story is a div of bare text, written without a paragraph tag. It tells how the people of the town came back to the square the next morning, how they found the fountain running again, and how the mayor, who had said for a year that nothing could be done, stood by it and said that he had always known it would work. Nobody believed him, and the story ends here.</div></article><div class=\\"teasers\\">%s</div></body></html>"}\n' \
	"$archive" >one-article.jsonl
like "$(boilerplate-strip one-article.jsonl | jq -r .text | tr "\n" " ")" "The first part of the story.*The last part of the story is a div of bare text.*ends here\\. *\$" \
	"the one <article> of a page: a lone <div> of prose in it is kept with the rest"
# a blog's front page: several posts, each declared (entry-content): all of them, not one
{ printf '{"id":"front","html":"<html><body><div id=\\"posts\\">'
  for i in 1 2 3; do
	printf '<div class=\\"post\\"><h2>Post %s</h2><div class=\\"entry-content\\">%s</div></div>' "$i" "$story"
  done
  printf '</div><div class=\\"sidebar\\"><p>About me: I write about the city, its council and its libraries, and have done so for years.</p></div></body></html>"}\n'; } >front.jsonl
is "$(boilerplate-strip front.jsonl | jq -r .text | grep -c '^Post [123]$')" 3 \
	"several declared posts (a blog's front page): the posts together are the main content"
# ... but a lone <article> beside much more prose is no declaration (a promotion box)
printf '{"id":"promo","html":"<html><body><div class=\"story\">%s</div><article class=\"promo\"><p>Read our special report on the future of the city library, with photographs and interviews.</p></article></body></html>"}\n' \
	"$story" >promo.jsonl
like "$(boilerplate-strip promo.jsonl | jq -r .text | tr "\n" " ")" "^The council voted on Tuesday.*the spring of next year" \
	"a lone <article> with less than a quarter of the page's prose does not take the story's place"
boilerplate-strip --keep-html "$DATA/html/aeb-4.jsonl.gz" | jq -r 'has("html") and has("text")' | sort -u >kh
is "$(cat kh)" "true" "--keep-html keeps html beside text"
boilerplate-strip --format markdown "$DATA/html/aeb-4.jsonl.gz" | jq -r .text | grep -c '^#' >md
ok "$([ "$(cat md)" -gt 0 ] && echo 0 || echo 1)" "--format markdown writes # headings ($(cat md))"

# min-chars and rejects, records without html, another field name
{ printf '{"id":"empty","html":"<html><body><nav>menu</nav></body></html>"}\n'
  printf '{"id":"wet","text":"already text"}\n'
  printf '{"id":"short","page":"<p>Short but real.</p>"}\n'; } >mix.jsonl
boilerplate-strip --rejects rej.jsonl --stats s.json mix.jsonl >out.jsonl
is "$(jq -r .id out.jsonl | tr '\n' ' ')" "wet short " "no text: dropped; no html: passed unchanged"
is "$(jq -r '.id + ":" + .metadata.reject.reason' rej.jsonl)" "empty:no_text" "rejected with the reason"
is "$(sed -n 1p out.jsonl)" '{"id":"wet","text":"already text"}' "a record without html is unchanged"
# a page whose text is all in what is dropped for what it is (an <aside>, a <footer>): the last
# pass keeps what reads as content there; a page of navigation alone stays empty (above)
{ printf '{"id":"aside","html":"<html><body><aside><p>This whole page is an aside, a paragraph of real text that someone wrote for it.</p></aside><nav><a href=/>Home</a></nav></body></html>"}\n'
  printf '{"id":"footer","html":"<html><body><footer><p>Contact us at the office on Main Street, open from nine to five every weekday.</p></footer></body></html>"}\n'; } >dropped.jsonl
is "$(boilerplate-strip dropped.jsonl | jq -r .text | tr '\n' '|')" \
	"This whole page is an aside, a paragraph of real text that someone wrote for it.|Contact us at the office on Main Street, open from nine to five every weekday.|" \
	"all its text in an <aside> or a <footer>: the page keeps it (the navigation still goes)"
is "$(boilerplate-strip --precision dropped.jsonl | wc -l)" 0 "--precision: those pages stay empty"
is "$(boilerplate-strip --html-field page mix.jsonl | jq -r 'select(.id == "short") | .text')" "Short but real." \
	"--html-field"
is "$(boilerplate-strip --html-field page --min-chars 100 mix.jsonl | jq -r 'select(.id == "short") | .id')" "" \
	"--min-chars drops shorter texts"

# warc-extract --text: the same records as warc-extract | boilerplate-strip
for w in chatnoir-resiliparse_warcfile.warc.gz whirlwind-python_whirlwind.warc.gz dolma_warc_sample-0000.warc.gz; do
	warc-extract "$DATA/warc/$w" | boilerplate-strip >piped.jsonl
	warc-extract --text "$DATA/warc/$w" >inproc.jsonl
	test_cmp piped.jsonl inproc.jsonl "$w: --text gives the very records of the pipe"
done
warc-extract --text --format markdown --precision "$DATA/warc/whirlwind-python_whirlwind.warc.gz" >a.jsonl
warc-extract "$DATA/warc/whirlwind-python_whirlwind.warc.gz" | boilerplate-strip --format markdown --precision >b.jsonl
test_cmp b.jsonl a.jsonl "--text with --format and --precision: the same too"

# --whole-page: nothing judged or removed, only what a browser does not show as text
{ printf '{"id":"w","html":"<html><head><title>T</title><style>p{color:red}</style></head><body>'
  printf '<nav><ul><li><a href=/>Home</a></li><li><a href=/about>About us</a></li></ul></nav>'
  printf '<h1>The heading</h1><p>A paragraph   of prose,\\n with words.</p><script>var x = 1;</script>'
  printf '<noscript>enable scripts</noscript><div hidden>hidden text</div><span style=\\"display: none\\">none text</span>'
  printf '<svg><text>svg label</text></svg><table><tr><td>a</td><td>b</td></tr></table>'
  printf '<div class=\\"cookie-banner\\">We use cookies to improve your experience of this site.</div>'
  printf '<p>Share this page with a friend now</p><p>Share this page with a friend now</p>'
  printf '<footer>Copyright 2024, all rights reserved</footer></body></html>"}\n'; } >whole.jsonl
boilerplate-strip --whole-page whole.jsonl | jq -r .text >got
printf '%s\n' '- Home' '' '- About us' '' 'The heading' '' 'A paragraph of prose, with words.' '' 'a	b' '' \
	'We use cookies to improve your experience of this site.' '' 'Share this page with a friend now' '' \
	'Share this page with a friend now' '' 'Copyright 2024, all rights reserved' >expect
test_cmp expect got "--whole-page: navigation, banners, repeats and footers kept; head, script, style, noscript, svg and hidden left out"
# (a page this short gets the cascade's third pass, without the class markers: the banner stays)
is "$(boilerplate-strip whole.jsonl | jq -r .text | grep -c -e Home -e About -e Copyright)" 0 \
	"the same page without --whole-page: navigation and footer go"
boilerplate-strip --whole-page "$DATA/html/aeb-4.jsonl.gz" | jq -r '[.id, (.text | length)] | @tsv' | sort >whole4
boilerplate-strip "$DATA/html/aeb-4.jsonl.gz" | jq -r '[.id, (.text | length)] | @tsv' | sort >main4
is "$(join whole4 main4 | awk '$2 > $3' | wc -l)" 4 "four real pages: the whole page is longer than its main text"
boilerplate-strip --whole-page "$DATA/html/aeb-4.jsonl.gz" | jq -r .text | sort -u >whole-lines
boilerplate-strip "$DATA/html/aeb-4.jsonl.gz" | jq -r .text | sort -u >main-lines
is "$(comm -23 main-lines whole-lines | wc -l) $(grep -c 'Taylor Swift' whole-lines)" "0 11" \
	"every line of the main text is in the whole page, which has more (the BBC page's links)"
warc-extract "$DATA/warc/chatnoir-resiliparse_warcfile.warc.gz" | boilerplate-strip --whole-page >piped.jsonl
warc-extract --text --whole-page "$DATA/warc/chatnoir-resiliparse_warcfile.warc.gz" >inproc.jsonl
test_cmp piped.jsonl inproc.jsonl "warc-extract --text --whole-page: the very records of the pipe"

# bad pages: time and memory grow linearly
page() { # page N: a JSON record whose html has N paragraphs
	awk -v n="$1" 'BEGIN { printf "{\"id\":\"big\",\"html\":\"<html><body><article>";
		for (i = 0; i < n; i++) printf "<p>Paragraph %d of a long page, written in plain sentences, one after another.</p>", i;
		print "</article></body></html>\"}" }'
}
page 10000 >p1.jsonl
page 100000 >p10.jsonl
m1=$( { /usr/bin/time -f %M boilerplate-strip p1.jsonl >o1; } 2>&1 )
m10=$( { /usr/bin/time -f %M boilerplate-strip p10.jsonl >o10; } 2>&1 )
is "$(jq -r '.text | split("\n\n") | length' o10)" 100000 "a 9 MB page: every paragraph"
ok "$([ "$m10" -lt $((m1 * 15)) ] && echo 0 || echo 1)" "memory linear: ${m1} KB for 1 MB, ${m10} KB for 9 MB"
awk 'BEGIN { printf "{\"id\":\"deep\",\"html\":\""; for (i = 0; i < 100000; i++) printf "<div>"; print "deep\"}" }' >deep.jsonl
is "$(boilerplate-strip --min-chars 0 deep.jsonl | jq -r .id)" "deep" "100,000-deep nesting: the record comes through"
printf '{"id":"fs","html":"<frameset><frame src=\\"a\\"></frameset>"}\n{"id":"nobody","html":"text, and no tags at all."}\n' >odd.jsonl
boilerplate-strip --min-chars 0 odd.jsonl >odd.out
is "$(wc -l <odd.out)" 2 "frameset and a page without body: both come through"
head -c 300000 /dev/urandom | od -An -tx1 | tr -d ' \n' | awk '{ printf "{\"id\":\"junk\",\"html\":\"%s\"}\n", $0 }' >junk.jsonl
boilerplate-strip --min-chars 0 junk.jsonl | jq -e .text >/dev/null
ok $? "binary-looking junk: valid output"
is "$(boilerplate-strip --whole-page --min-chars 0 deep.jsonl odd.jsonl junk.jsonl | wc -l)" 4 \
	"--whole-page: deep nesting, frameset, no body and junk come through"
done_testing
