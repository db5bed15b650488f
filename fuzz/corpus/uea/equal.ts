#made-up cases
@problemName Tiny
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true up down
@data
1,2,3:0.5,0.25,0:up
3,2,1:0,-0.5,-1:down
2,2.5,3:1,1,1:up
